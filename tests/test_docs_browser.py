"""The built docs site in a real browser: math renders offline, and nothing logs an error.

Marked ``docs`` and ``browser``: it builds the site (as tests/test_docs.py's
``test_sphinx_build_passes`` does: ``sphinx-build -b html docs <tmp>``, a subprocess, the
same ``conf.py``) and drives Debian's chromium through Playwright exactly as
tests/test_app_browser.py does (the system browser, never a downloaded one).  To stay near
a minute and a half, the build executes only the notebook it opens (``00_start_here``); the
full build, every cell executed and warnings as errors, is test_docs.py's.

MathJax comes with the site (``docs/conf.py`` copies a local ``mathjax-full`` into
``_static/mathjax``): it is installed from npm, as tests/test_latex_render.py installs it, when
``.cache/mathjax`` does not hold it yet.  The pages are served on a loopback port and every
request to any other host is aborted, so a page that needs the network (a CDN's MathJax, the
widget manager's scripts) logs a console error and fails here.

Checks, on notebook 00, the API index and a module page of the API reference: no console
error and no uncaught exception; every math element typeset by MathJax, none an error box;
no raw TeX (``$...$``, ``\\(...\\)``, ``\\mathrm{...}``) in the text a reader sees, the Explore
panel's still included.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.docs, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CACHE = ROOT / ".cache" / "mathjax"  # tests/test_latex_render.py's
MATHJAX = "mathjax-full@3.2.2"
ES5 = Path("node_modules") / "mathjax-full" / "es5"
BUNDLE = "tex-mml-chtml.js"

#: the pages opened: a notebook with math and an Explore panel, the API reference's index and
#: a module page (types, [source] links, numpydoc sections)
NOTEBOOK = "notebooks/00_start_here.html"
API_INDEX = "reference/api/index.html"
API_PAGE = "reference/api/llmphys.html"

# what the build does not execute: every MyST page and every notebook but 00 (myst-nb matches
# these against the end of each source's path)
NOT_EXECUTED = ["*.md", "0[1-9]*.ipynb", "[!0]*.ipynb"]
BUILD = """
import sys
from sphinx.application import Sphinx

docs, out = sys.argv[1], sys.argv[2]
app = Sphinx(docs, docs, out, out + "/.doctrees", "html", keep_going=True,
             confoverrides={"nb_execution_excludepatterns": %r})
app.build()
sys.exit(app.statuscode)
""" % (NOT_EXECUTED,)  # noqa: UP031 - a literal list inside a script's text

READY = 60_000  # ms for a page to load and MathJax to typeset it
MATHJAX_START = 20_000  # ms for MathJax, served with the page, to start

#: TeX that MathJax did not turn into math, as a reader would see it
RAW_TEX = re.compile(
    r"\$[^$\n]*(?:\\[A-Za-z]+|[_^]\{)[^$\n]*\$"  # $n_{\mathrm{kv}}$
    r"|\\\(|\\\)|\\\[|\\\]"  # \( ... \) and \[ ... \] left as text
    r"|\\(?:mathrm|frac|text|cdot|left|right|lceil|rceil|sqrt|le|ge|times)\b"
)

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


# ----------------------------------------------------------------------------- the site
def _local_mathjax(staging: Path) -> Path:
    """MathJax's es5 folder: the cache's, installed there first when missing.  npm installs
    into ``staging`` and the result is moved into the cache in one rename, so that the LaTeX
    test, which may install at the same moment, never sees half a copy (if it won, the copy
    in ``staging`` is used)."""
    if (CACHE / ES5 / BUNDLE).is_file():
        return CACHE / ES5
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("the docs browser test needs npm to install MathJax (.ci/run installs it)")
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
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The site, built once for this module (with the local MathJax)."""
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="mathjax-", dir=CACHE.parent))
    try:
        mathjax = _local_mathjax(staging)
        out = tmp_path_factory.mktemp("site") / "html"
        env = {**os.environ, "LLMPHYS_MATHJAX": str(mathjax)}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", BUILD, str(DOCS), str(out)],
            capture_output=True, text=True, timeout=900, cwd=ROOT, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
        print(f"site built in {time.monotonic() - started:.0f} s")
        assert (out / "_static" / "mathjax" / BUNDLE).is_file()
        yield out
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The site on a free loopback port (a browser loads MathJax's fonts over HTTP, not from
    files)."""
    handler = functools.partial(_Quiet, directory=str(site))
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


# ----------------------------------------------------------------------------- the checks
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
