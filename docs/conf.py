"""Sphinx configuration of the llmphys documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

* Pages are MyST markdown; pages with numbers are MyST-NB text notebooks whose code cells run
  at build time, so every number on them is computed, not typed.
* ``_ext/llmphys_docs.py`` writes the generated pages when the build starts: the formula
  reference and the glossary (from the registry), the CLI reference (from the argparse parser)
  and the list of teaching notebooks; ``docs/notebooks`` is made a link to ``../notebooks/``
  so that the notebooks run in their own folder.  All of these are git-ignored.
* Every notebook and code cell is executed (``nb_execution_mode = "force"``); an error in any
  cell fails the build.
* The build is offline: no intersphinx, no remote images or fonts.  Readers' browsers load
  MathJax from its CDN when they view the pages.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "llmphys"
author = "llmphys developers"
copyright = "llmphys developers"
release = metadata.version("llmphys")
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "llmphys_docs",
]

exclude_patterns = [
    "_build",
    "_ext",
    "_ipython",
    "_static",
    "**.ipynb_checkpoints",
    "Thumbs.db",
    ".DS_Store",
    # docs/notebooks links to ../notebooks: its top-level notebooks are pages, nothing else is
    "notebooks/*/**",
    "notebooks/**.md",
    "notebooks/**.rst",
]

# --------------------------------------------------------------------------- MyST / MyST-NB
myst_enable_extensions = ["amsmath", "colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

nb_execution_mode = "force"  # run every notebook and code cell on every build
# A failing cell is a warning carrying the cell's traceback, and the build fails (with or
# without -W: llmphys_docs sets the exit status); every failing notebook is reported in one run.
# (raise_on_error would stop at the first one and hide the traceback in a temporary file.)
nb_execution_raise_on_error = False
nb_execution_show_tb = True
nb_execution_timeout = 120  # seconds per cell
nb_merge_streams = True
# rich outputs in markdown (a Derivation's) are parsed as MyST, so their $$ math renders
nb_render_markdown_format = "myst"
# a static page has no kernel: an Explore panel shows its still (text/html, see
# llmphys.widget_snapshot), never a widget view that would do nothing
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]

# --------------------------------------------------------------------------- autodoc
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # signatures show the names; docstrings say the units
autodoc_default_options = {"members": True, "no-value": True}  # no build-machine paths
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# --------------------------------------------------------------------------- HTML
html_theme = "sphinx_book_theme"
html_title = f"llmphys {release}"  # the version in every page's header
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "home_page_in_toc": True,
}
# one search field (the header's button), not a second one in the sidebar
html_sidebars = {"**": ["navbar-logo.html", "icon-links.html", "sbt-sidebar-nav.html"]}
# a valid colour mode from the first paint (pydata-sphinx-theme logs "invalid theme mode"
# without one)
html_context = {"default_mode": "light"}
html_static_path = ["_static"]
html_css_files = ["llmphys.css"]  # wide outputs, tables and math scroll or wrap

# The kernel that executes the pages shows an exception as its type and message (IPython's
# minimal mode, from this IPython profile's startup file): pages that show a refused input
# never print a traceback through llmphys's source and the build machine's paths.
os.environ["IPYTHONDIR"] = str(DOCS / "_ipython")

# --------------------------------------------------------------------------- optional pages
# Pages owned by other work, listed in a toctree only once they exist (a toctree entry for a
# missing page is a warning, and -W makes warnings fatal).
OPTIONAL_PAGES = ("numerics",)


def _drop_missing_pages(app, docname: str, source: list[str]) -> None:
    if docname != "index":
        return
    for page in OPTIONAL_PAGES:
        if not (DOCS / f"{page}.md").exists():
            source[0] = "\n".join(line for line in source[0].splitlines() if line.strip() != page)


def setup(app) -> None:
    app.connect("source-read", _drop_missing_pages)
