"""``python -m skimgaug.cli``: the same as the ``skimgaug`` command."""

import sys

from . import main

sys.exit(main())
