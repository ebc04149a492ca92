"""``python -m skimgaug.cli``: the same as the ``skimgaug`` command."""

import sys

from . import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
