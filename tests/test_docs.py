"""The documentation: the generated reference covers the registry, the site builds, and the
built site works in a real browser.

The generator (``docs/_ext/llmphys_docs.py``) is called directly for the fast checks.  The full
``sphinx-build -W --keep-going`` runs once, in a subprocess (it executes every notebook and code
cell), for two kinds of test that share it (fixture ``site``):

* ``test_sphinx_build_passes`` (marker ``docs``): the build passes, warnings as errors, and its
  pages show no traceback or machine path;
* the browser checks (markers ``docs`` and ``browser``): the built pages, served on a loopback
  port, opened in Debian's chromium through Playwright exactly as tests/test_app_browser.py does
  (the system browser, never a downloaded one).

``pytest -m "not docs"`` skips the build and everything that needs it.  The browser checks are
in this module, not one of their own, so that ``pytest -n auto --dist loadfile`` (which puts
each module on one worker) builds the site once.

MathJax comes with the site (``docs/conf.py`` copies a local ``mathjax-full`` into
``_static/mathjax``): it is installed from npm, as tests/test_latex_render.py installs it, when
``.cache/mathjax`` does not hold it yet (without npm the site builds with the CDN's MathJax, and
the browser checks fail saying why).  Every request to a host other than the loopback server is
aborted, so a page that needs the network (a CDN's MathJax, the widget manager's scripts) logs a
console error and fails here.

The browser checks, on notebook 00, the API index and a module page of the API reference: no
console error and no uncaught exception; every math element typeset by MathJax, none an error
box; no raw TeX (``$...$``, ``\\(...\\)``, ``\\mathrm{...}``) in the text a reader sees, the
Explore panel's still included.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

import llmphys as F

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CACHE = ROOT / ".cache" / "mathjax"  # tests/test_latex_render.py's
MATHJAX = "mathjax-full@3.2.2"
ES5 = Path("node_modules") / "mathjax-full" / "es5"
BUNDLE = "tex-mml-chtml.js"

#: the pages the browser opens: a notebook with math and an Explore panel, the API
#: reference's index and a module page (types, [source] links, numpydoc sections)
NOTEBOOK = "notebooks/00_start_here.html"
API_INDEX = "reference/api/index.html"
API_PAGE = "reference/api/llmphys.html"

READY = 60_000  # ms for a page to load and MathJax to typeset it
MATHJAX_START = 20_000  # ms for MathJax, served with the page, to start

#: TeX that MathJax did not turn into math, as a reader would see it
RAW_TEX = re.compile(
    r"\$[^$\n]*(?:\\[A-Za-z]+|[_^]\{)[^$\n]*\$"  # $n_{\mathrm{kv}}$
    r"|\\\(|\\\)|\\\[|\\\]"  # \( ... \) and \[ ... \] left as text
    r"|\\(?:mathrm|frac|text|cdot|left|right|lceil|rceil|sqrt|le|ge|times)\b"
)


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmphys_docs", DOCS / "_ext" / "llmphys_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages(gen: ModuleType) -> dict[str, str]:
    return gen.formula_pages()


def _sections(text: str) -> list[str]:
    return re.findall(r"^\(formula-(\w+)\)=\n## `\1`$", text, re.MULTILINE)


def test_reference_lists_every_registered_formula(pages: dict[str, str]) -> None:
    pages = dict(pages)
    index = pages.pop("reference/formulas/index.md")
    listed = re.findall(r"\{ref\}`(\w+) <formula-\1>`", index)
    assert sorted(listed) == sorted(F.registry)
    documented = [name for text in pages.values() for name in _sections(text)]
    assert sorted(documented) == sorted(F.registry)  # each exactly once


def test_each_topic_page_is_in_the_reference_toctree(pages: dict[str, str]) -> None:
    index = pages["reference/formulas/index.md"]
    toctree = re.search(r"```\{toctree\}\n(.*?)```", index, re.DOTALL)
    assert toctree is not None
    entries = {line for line in toctree.group(1).splitlines() if line and line[0] != ":"}
    assert entries == {Path(p).stem for p in pages if not p.endswith("index.md")}


def test_formula_section_has_every_part(gen: ModuleType) -> None:
    text = "\n".join(gen.formula_section(F.total_vram))
    for heading in (
        "**Definition**",
        "**Inputs**",
        "**Rationale**",
        "**Source**",
        "**Worked example**",
    ):
        assert heading in text
    for name in F.total_vram.input_names:
        assert f"`{name}`" in text
    assert F.total_vram.to_latex() in text
    assert F.total_vram.to_latex(F.total_vram.expanded) in text
    assert F.total_vram.derive(**gen.example_values(F.total_vram)[0]).latex() in text


def test_worked_example_says_where_values_come_from(gen: ModuleType) -> None:
    values, origin = gen.example_values(F.kv_cache_bytes)
    assert set(values) == set(origin) == set(F.kv_cache_bytes.input_names)
    text = "\n".join(gen.example_section(F.kv_cache_bytes))
    for where in set(origin.values()):
        assert where in text


def test_glossary_page_lists_every_symbol(gen: ModuleType) -> None:
    text = gen.glossary_page()
    for name in F.glossary:
        assert f"`{name}`" in text or f"{{ref}}`{name} <formula-{name}>`" in text, name


def test_docstring_prose_cannot_inject_markup(gen: ModuleType) -> None:
    assert gen.md_text("a * b [c](d) $x$ {role}`y` <b> 2*x*y") == (
        r"a \* b \[c\]\(d\) \$x\$ \{role\}`y` \<b\> 2\*x\*y"
    )
    assert gen.md_text("the *total* count") == "the *total* count"  # reST emphasis kept
    assert gen.md_text("the ``layers * hidden`` term") == "the `layers * hidden` term"
    assert gen.cell("`a|b` \\| c") == r"`a\|b` \| c"


def test_cli_reference_has_every_command(gen: ModuleType) -> None:
    parsers = gen.cli_parsers()
    text = gen.cli_page()
    for command, _ in parsers:
        assert f"## `{command}`" in text


def test_notebooks_are_linked_and_listed(gen: ModuleType, tmp_path: Path) -> None:
    source, docs = tmp_path / "notebooks", tmp_path / "docs"
    docs.mkdir()
    assert gen.notebooks(source) == []
    assert not gen.link_notebooks(docs, source)
    assert "No notebooks yet." in gen.notebooks_page([])
    source.mkdir()
    (source / "01_b.ipynb").write_text("{}")
    (source / "00_a.ipynb").write_text("{}")
    found = gen.notebooks(source)
    assert [p.name for p in found] == ["00_a.ipynb", "01_b.ipynb"]
    assert "\nnotebooks/00_a\nnotebooks/01_b\n" in gen.notebooks_page(found)
    assert gen.link_notebooks(docs, source)
    link = docs / "notebooks"
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "notebooks")
    assert (link / "00_a.ipynb").read_text() == "{}"
    assert gen.link_notebooks(docs, source)  # idempotent
    for path in list(source.iterdir()):
        path.unlink()
    assert not gen.link_notebooks(docs, source)
    assert not link.is_symlink() and not link.exists()
    assert source.is_dir()  # the notebooks folder itself is never touched


def test_notebook_copies_of_an_earlier_version_make_way_for_the_link(
    gen: ModuleType, tmp_path: Path
) -> None:
    source, docs = tmp_path / "notebooks", tmp_path / "docs"
    source.mkdir()
    (source / "00_a.ipynb").write_text("{}")
    old = docs / "notebooks"
    old.mkdir(parents=True)
    (old / "00_a.ipynb").write_text("{}")
    (old / "index.md").write_text(gen.notebooks_page([]))
    assert gen.link_notebooks(docs, source)
    assert old.is_symlink()
    old.unlink()
    old.mkdir()
    (old / "mine.txt").write_text("not generated")
    with pytest.raises(FileExistsError, match="is a real file or folder"):
        gen.link_notebooks(docs, source)


def test_write_pages_only_rewrites_changes_and_removes_stale(
    gen: ModuleType, tmp_path: Path
) -> None:
    first = {"reference/glossary.md": b"a", "reference/formulas/x.md": b"x"}
    assert len(gen.write_pages(tmp_path, first)) == 2
    assert gen.write_pages(tmp_path, first) == []
    gen.write_pages(tmp_path, {"reference/glossary.md": b"b"})
    assert (tmp_path / "reference/glossary.md").read_bytes() == b"b"
    assert not (tmp_path / "reference/formulas").exists()


# ----------------------------------------------------------------------------- the site
@dataclass(frozen=True)
class Site:
    """The site as built by the documented command, and how the build went."""

    out: Path
    returncode: int
    log: str  # the end of the build's output
    mathjax: str  # where its MathJax came from, or why it has none of its own


def _local_mathjax(staging: Path) -> Path:
    """MathJax's es5 folder: the cache's, installed there first when missing.  npm installs
    into ``staging`` and the result is moved into the cache in one rename, so that the LaTeX
    test, which may install at the same moment, never sees half a copy (if it won, the copy
    in ``staging`` is used)."""
    if (CACHE / ES5 / BUNDLE).is_file():
        return CACHE / ES5
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("no npm to install MathJax with (.ci/run installs it)")
    subprocess.run(
        [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund",
         "--loglevel=error", MATHJAX],
        check=True, timeout=600, capture_output=True,
    )  # fmt: skip
    CACHE.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # already there: installed meanwhile
        os.rename(staging / "node_modules", CACHE / "node_modules")
    return CACHE / ES5 if (CACHE / ES5 / BUNDLE).is_file() else staging / ES5


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The site, built once for this module: ``sphinx-build -W --keep-going -b html docs
    <tmp>``, every cell executed, with the local MathJax (installed first when missing; when
    it cannot be, the build goes on without it and only the browser checks fail)."""
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="mathjax-", dir=CACHE.parent))
    try:
        env = dict(os.environ)
        try:
            mathjax = _local_mathjax(staging)
        except (OSError, subprocess.SubprocessError) as error:
            where = f"none: {error}"
        else:
            env["LLMPHYS_MATHJAX"] = where = str(mathjax)
        out = tmp_path_factory.mktemp("site") / "html"
        command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
                   str(DOCS), str(out)]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=900, cwd=ROOT, env=env
        )
        print(f"site built in {time.monotonic() - started:.0f} s")
    finally:  # the build has copied MathJax into the site
        shutil.rmtree(staging, ignore_errors=True)
    return Site(out, done.returncode, done.stdout[-5000:] + done.stderr[-5000:], where)


@pytest.mark.docs
def test_sphinx_build_passes(site: Site) -> None:
    """The documented build command, warnings as errors, every cell executed."""
    assert site.returncode == 0, site.log
    out = site.out
    # no page shows a traceback (a refused input prints its type and message) or a path of
    # the machine that built it
    machine = [str(ROOT), str(Path.home())]
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert "Traceback (most recent call last)" not in text, page
        assert 'class="output traceback' not in text or "site-packages" not in text, page
        for path in machine:
            assert path not in text, (page, path)
    # the API reference (a page per module) documents what every notebook uses: explore()
    # and the plots
    api = "".join(p.read_text() for p in (out / "reference" / "api").glob("*.html"))
    for documented in ("llmphys.widgets.explore", "llmphys.plots.roofline",
                       "llmphys.plots.throughput_frontier", "llmphys.frontier",
                       "llmphys.disaggregate", "llmphys.search"):  # fmt: skip
        assert f'id="{documented}"' in api, documented
    # a notebook page shows its Explore panel as a still (never a widget without a kernel)
    tour = (out / "notebooks" / "00_start_here.html").read_text()
    assert "llmphys-panel-still" in tour and "widget-view+json" not in tour
    index = (out / "reference" / "formulas" / "index.html").read_text()
    for name in F.registry:
        assert f'href="{_topic_of(name)}.html#formula-{name.replace("_", "-")}"' in index, name


def _topic_of(name: str) -> str:
    return F.registry[name].module.rsplit(".", 1)[-1].replace("_", "-")


def test_every_refusal_on_the_refusals_page_is_an_llmphys_error():
    """docs/guides/refusals.md promises an llmphys error for each bad input it shows: each
    cell tagged raises-exception must raise one (never a foreign exception, never a number)."""
    import re

    import llmphys as F

    text = (Path(__file__).resolve().parents[1] / "docs/guides/refusals.md").read_text()
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", text, re.S)
    namespace: dict = {}
    exec(cells[0], namespace)  # the imports
    refusals = [c for c in cells[1:] if c.startswith(":tags: [raises-exception]\n")]
    assert len(refusals) == len(cells) - 1 >= 15
    for cell in refusals:
        code = cell.removeprefix(":tags: [raises-exception]\n")
        with pytest.raises(F.LlmphysError):
            exec(code, namespace)


def test_the_notebooks_page_is_a_gallery_with_a_picture_per_lesson(gen: ModuleType) -> None:
    # issue 22, item 11: one picture per notebook (docs/gallery.py makes them, committed)
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    page = gen.notebooks_page(gen.notebooks())
    assert page.count('class="llmphys-gallery-card"') == len(lessons) >= 10
    for path in lessons:
        picture = DOCS / "_static" / "gallery" / f"{path.stem}.png"
        assert picture.is_file() and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path.name
        assert f'src="_static/gallery/{path.stem}.png"' in page
    assert "sizing_app" not in page.split("## The sizing app")[0]  # the app is not a lesson


# ----------------------------------------------------------------------------- in a browser
# the text a reader sees, without code (a cell's source, a plain-text output may show TeX
# and dollars legitimately) and without MathJax's own output
_VISIBLE_TEXT = """() => {
    const body = document.querySelector('main') || document.body;
    const copy = body.cloneNode(true);
    copy.querySelectorAll('pre, code, .highlight, mjx-container, script, style')
        .forEach(e => e.remove());
    return copy.innerText;
}"""

_MATH = """() => {
    const math = [...document.querySelectorAll('.math')];
    return {
        math: math.length,
        typeset: math.filter(e => e.querySelector('mjx-container')).length,
        errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
        stills: [...document.querySelectorAll('.llmphys-panel-still')].map(e => e.innerText),
    };
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    """The built site on a free loopback port (a browser loads MathJax's fonts over HTTP, not
    from files)."""
    if site.returncode != 0:
        pytest.fail("the site did not build (see test_sphinx_build_passes)", pytrace=False)
    assert (site.out / "_static" / "mathjax" / BUNDLE).is_file(), f"MathJax: {site.mathjax}"
    handler = functools.partial(_Quiet, directory=str(site.out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def visit(browser: Any, server: str, path: str) -> dict[str, Any]:
    """Open ``path`` with nothing but the loopback server reachable; once MathJax (if the
    page loads it) has typeset, what the page logged and shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    here = urlsplit(server).netloc
    blocked: list[str] = []

    def loopback_only(route: Any) -> None:
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", loopback_only)
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda m: logged.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: logged.append(f"uncaught: {e}"))
    try:
        page.goto(server + path, wait_until="load", timeout=READY)
        if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
            try:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=MATHJAX_START,
                )
            except PlaywrightTimeout:
                logged.append(f"MathJax did not start in {MATHJAX_START / 1000:g} s")
            else:
                page.evaluate("() => MathJax.startup.promise")
        page.wait_for_timeout(300)  # late console messages
        found = page.evaluate(_MATH)
        found["text"] = page.evaluate(_VISIBLE_TEXT)
        found["html"] = page.content()
    finally:
        context.close()
    return {**found, "console": logged, "blocked": blocked}


def _raw_tex(text: str) -> list[str]:
    return [m.group(0)[:80] for m in RAW_TEX.finditer(text)]


@pytest.mark.docs
@pytest.mark.browser
def test_notebook_page_renders_its_math_offline(browser: Any, server: str) -> None:
    seen = visit(browser, server, NOTEBOOK)
    assert seen["console"] == [], seen["console"]
    assert seen["blocked"] == [], seen["blocked"]
    assert seen["math"] > 10  # the page has math, and all of it was typeset, without error
    assert seen["typeset"] == seen["math"], seen
    assert seen["errors"] == []
    assert _raw_tex(seen["text"]) == []
    # the Explore panel's still: its labels are math, not raw TeX
    assert seen["stills"], "no Explore panel still on the page"
    for still in seen["stills"]:
        assert "$" not in still and _raw_tex(still) == [], still


@pytest.mark.docs
@pytest.mark.browser
def test_api_pages_open_without_errors(browser: Any, server: str) -> None:
    index = visit(browser, server, API_INDEX)
    assert index["console"] == [] and index["blocked"] == [], index["console"] + index["blocked"]
    assert _raw_tex(index["text"]) == []
    for module in ("llmphys.plots", "llmphys.widgets", "llmphys.serving", "llmphys.units"):
        assert f'href="{module}.html"' in index["html"], module
    page = visit(browser, server, API_PAGE)
    assert page["console"] == [] and page["blocked"] == [], page["console"] + page["blocked"]
    assert _raw_tex(page["text"]) == []
    assert page["typeset"] == page["math"] and page["errors"] == []
    html = page["html"]
    assert 'id="llmphys.Scenario"' in html and 'id="llmphys.solve"' in html
    assert html.count('class="viewcode-link"') > 20  # [source] links
    assert "Parameters" in html and "Returns" in html
    # cross-references to pint through the shipped inventory
    assert "https://pint.readthedocs.io/en/stable/api/base.html#pint.Quantity" in html
