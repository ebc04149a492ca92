"""Sphinx configuration of skimgaug's documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing is fetched from the network at build time: no intersphinx, no
remote theme assets, no executed notebooks.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the working tree's package, whatever is installed; _ext holds the CLI reference.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
# TensorFlow loads when autodoc imports the estimator: keep its C++ log lines quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import skimgaug  # noqa: E402

project = "skimgaug"
author = "skimgaug contributors"
copyright = "skimgaug contributors"
version = release = skimgaug.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "cli_reference",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
add_module_names = False
# numpydoc lists no class members itself: the estimator's page names the methods it
# documents (scikeras' inherited ones would otherwise all appear, with their own docstrings).
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Markdown (MyST) -----------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skimgaug {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "icon_links": [],  # no links that need the network
    "navbar_align": "left",
    "navbar_end": ["theme-switcher"],
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "navigation_with_keys": False,
}
html_context = {"default_mode": "light"}
