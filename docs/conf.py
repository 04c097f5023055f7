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
* The API reference (``reference/api/``) is a page per module: autodoc with numpydoc sections
  (napoleon), types from the annotations, ``[source]`` links (viewcode) and links to Python,
  pint, numpy, SymPy, xarray, pandas and matplotlib through intersphinx, from the small inventories
  shipped in ``_intersphinx/`` (written by ``_intersphinx/make_inventories.py``).
* The build is offline: no inventory is downloaded, no remote images or fonts.  MathJax is
  served with the site when a local copy is present (``.cache/mathjax``, installed by
  ``npm install --prefix .cache/mathjax mathjax-full@3.2.2``, as the LaTeX test does, or the
  ``es5`` folder named by ``LLMPHYS_MATHJAX``); without one, readers' browsers load the same
  MathJax version from its CDN.
"""

from __future__ import annotations

import html
import os
import re
import shutil
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
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "llmphys_docs",
]

exclude_patterns = [
    "_build",
    "_ext",
    "_intersphinx",
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
# MathJax typesets only inside these classes on a MyST page (its sections are mathjax_ignore,
# so that a "$" in prose stays a dollar): the default ones, and rich HTML outputs
# (myst-nb's "text_html"), whose $$...$$ JupyterLab typesets too (a Derivation's, a Solution's)
myst_mathjax_classes = "tex2jax_process|mathjax_process|math|output_area|text_html"

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
# ... so no page needs the widget manager's scripts (require.js and the html-manager, from
# CDNs: console errors offline) for the widget state a notebook keeps in its metadata
nb_ipywidgets_js: dict[str, dict[str, str]] = {}

# --------------------------------------------------------------------------- autodoc
# The API reference (reference/api/*.rst) names every object it documents (autofunction,
# autoclass with :members:, autodata); module constants never show their values (a path
# would be the build machine's).  No default "members": Sphinx 9 lets a default of True
# override a directive's own list of members.
autodoc_member_order = "bysource"
autodoc_default_options = {"no-value": True}
# types from the annotations, in the Parameters and Returns sections (signatures stay short)
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
python_use_unqualified_type_names = True
toc_object_entries_show_parents = "hide"  # the page's contents list "solve", not the path
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_preprocess_types = True  # "int, optional": a link to int, and "optional" in italics
# (True makes napoleon copy napoleon_type_aliases into autodoc_type_aliases: annotations would
# then read "Formula" as an alias and render it as a broken forward reference)
napoleon_attr_annotations = False
# the short names docstrings use in their types
napoleon_type_aliases = {
    name: f"~{target}"
    for name, target in {
        "Quantity": "pint.Quantity",
        "Unit": "pint.Unit",
        "Scenario": "llmphys.Scenario",
        "Formula": "llmphys.Formula",
        "Solution": "llmphys.Solution",
        "Model": "llmphys.presets.Model",
        "Accelerator": "llmphys.presets.Accelerator",
        "AssumptionSet": "llmphys.presets.assumptions.AssumptionSet",
        "Interconnect": "llmphys.interconnect.Interconnect",
        "Registry": "llmphys.engine.Registry",
        "Frontier": "llmphys.Frontier",
        "NumpyFunction": "llmphys.engine.compiled.NumpyFunction",
        "QuantityFunction": "llmphys.engine.compiled.QuantityFunction",
        "callable": "collections.abc.Callable",
        "iterable": "collections.abc.Iterable",
        "mapping": "collections.abc.Mapping",
    }.items()
}
autosummary_generate = False  # the tables link to the module pages; no stub pages

# --------------------------------------------------------------------------- intersphinx
# Offline: each project's inventory is a small file in _intersphinx/ listing the objects our
# pages link to (make_inventories.py writes them; run it after adding a link).
INVENTORIES = DOCS / "_intersphinx"
intersphinx_mapping = {
    name: (base, str(INVENTORIES / f"{name}.inv"))
    for name, base in {
        "python": "https://docs.python.org/3/",
        "pint": "https://pint.readthedocs.io/en/stable/",
        "numpy": "https://numpy.org/doc/stable/",
        "sympy": "https://docs.sympy.org/latest/",
        "xarray": "https://docs.xarray.dev/en/stable/",
        "pandas": "https://pandas.pydata.org/docs/",
        "matplotlib": "https://matplotlib.org/stable/",
    }.items()
}

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

# --------------------------------------------------------------------------- MathJax
# MathJax 3.2.2, the version of JupyterLab and of the LaTeX test (tests/test_latex_render.py),
# from a local copy when there is one (copied into the site's _static/mathjax, so the pages
# render math offline), else from its CDN.
MATHJAX_VERSION = "3.2.2"
MATHJAX_LOCAL = Path(
    os.environ.get("LLMPHYS_MATHJAX")
    or DOCS.parent / ".cache" / "mathjax" / "node_modules" / "mathjax-full" / "es5"
)
# the bundle, and what it loads on demand: TeX extensions (autoload), the CHTML fonts, the
# menu and the accessibility components (not the speech-rule engine, loaded only when a
# reader turns speech on)
MATHJAX_PARTS = ("tex-mml-chtml.js", "input/tex/extensions", "output/chtml/fonts", "a11y", "ui")
if (MATHJAX_LOCAL / "tex-mml-chtml.js").is_file():
    mathjax_path = "mathjax/tex-mml-chtml.js"  # in _static
else:
    MATHJAX_LOCAL = None
    mathjax_path = f"https://cdn.jsdelivr.net/npm/mathjax@{MATHJAX_VERSION}/es5/tex-mml-chtml.js"


def _copy_mathjax(app, exception: Exception | None) -> None:
    if exception is not None or MATHJAX_LOCAL is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = MATHJAX_LOCAL / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        elif source.is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / part)


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


# --------------------------------------------------------------------------- API names
def _napoleon(app, what: str, name: str, obj, options, lines: list[str]) -> None:
    """Napoleon, except that a data, attribute or property docstring is not read as
    ``type: description`` on its first line: ours are prose ("The figures of a deployment, in
    reading order: formula name -> label") and keep their colons.  One with numpydoc sections
    (a registry formula's generated docstring) is read as a function's."""
    from sphinx.ext.napoleon import _process_docstring

    if what in ("data", "attribute", "property"):
        if not any(re.match(r"^\s*-{3,}\s*$", line) for line in lines):
            return
        what = "function"
    _process_docstring(app, what, name, obj, options, lines)


def _alias_public_names(app, env) -> list[str]:
    """Let every documented object answer to its other public names.

    An object is documented once, under the name users type (``llmphys.frontier``,
    ``llmphys.Frontier``); a reference to it by the module that defines it
    (``llmphys.serving.frontier``, as the module's own docstrings write it) or by the top level
    (``llmphys.ConfigError`` for ``llmphys.errors.ConfigError``) resolves to the same entry.
    (Classes get this from autodoc's ``:canonical:``; functions, methods and re-exports here.)
    """
    import pkgutil

    from sphinx.domains.python import ObjectEntry

    import llmphys

    objects = env.domains.python_domain.objects
    for name in getattr(env, "llmphys_aliases", ()):
        if name in objects and objects[name].aliased:
            del objects[name]
    documented: dict[int, str] = {}
    prefixes: dict[str, str] = {}  # another name of a documented class -> its documented name
    aliases: dict[str, str] = {}
    for name, entry in list(objects.items()):
        if entry.aliased or not name.startswith("llmphys."):
            continue
        try:
            obj = pkgutil.resolve_name(name)
        except Exception:
            continue
        documented.setdefault(id(obj), name)
        real = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if isinstance(real[0], str) and isinstance(real[1], str) and "<" not in real[1]:
            aliases[f"{real[0]}.{real[1]}"] = name
            if entry.objtype in ("class", "exception"):
                prefixes[f"{real[0]}.{real[1]}"] = name
    public = [*getattr(llmphys, "__all__", ()), *getattr(llmphys, "_LAZY", {})]
    for short in public:
        try:
            obj = getattr(llmphys, short)
        except AttributeError:
            continue
        if id(obj) in documented:
            aliases[f"llmphys.{short}"] = documented[id(obj)]
            if isinstance(obj, type):
                prefixes[f"llmphys.{short}"] = documented[id(obj)]
    for alias_prefix, prefix in prefixes.items():
        for name, entry in list(objects.items()):
            if name.startswith(prefix + ".") and not entry.aliased:
                aliases[alias_prefix + name[len(prefix) :]] = name
    added = []
    for alias, name in aliases.items():
        if alias not in objects and name in objects:
            entry = objects[name]
            objects[alias] = ObjectEntry(entry.docname, entry.node_id, entry.objtype, True)
            added.append(alias)
    env.llmphys_aliases = added
    return []


def _old_api_anchors(app, doctree, docname: str) -> None:
    """reference/api.html, the single page the API reference was before it had a page per
    module: every name the reference documents, under the anchor the old page gave it, linked
    to its place now; a script sends a link made to ``api.html#name`` on to that place."""
    if docname != "reference/api":
        return
    from docutils import nodes

    domain = app.env.domains.python_domain
    targets = {n: (e.docname, e.node_id) for n, e in domain.objects.items() if not e.aliased}
    targets |= {n: (e.docname, e.node_id) for n, e in domain.modules.items()}
    items = []
    for name, (page, node_id) in sorted(targets.items(), key=lambda item: item[0].lower()):
        if not page.startswith("reference/api/"):
            continue
        href = f"{app.builder.get_relative_uri(docname, page)}#{node_id}"
        items.append(
            f'<li><a id="{html.escape(node_id)}" href="{html.escape(href)}">'
            f"<code>{html.escape(name)}</code></a></li>"
        )
    script = (
        "<script>document.addEventListener('DOMContentLoaded', () => {"
        " const id = decodeURIComponent(location.hash.slice(1));"
        " const link = id && document.getElementById(id);"
        " if (link && link.href) location.replace(link.href); });</script>"
    )
    listing = f'<ul class="llmphys-api-moved">{"".join(items)}</ul>{script}'
    for container in doctree.findall(nodes.container):
        if "llmphys-api-moved" in container["classes"]:
            container.children = [nodes.raw("", listing, format="html")]


def setup(app) -> None:
    app.connect("source-read", _drop_missing_pages)
    from sphinx.ext.napoleon import _process_docstring

    for listener in list(app.events.listeners["autodoc-process-docstring"]):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _napoleon)
    app.connect("env-updated", _alias_public_names)
    app.connect("doctree-resolved", _old_api_anchors)
    app.connect("build-finished", _copy_mathjax)
