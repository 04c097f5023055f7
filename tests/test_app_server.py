"""``llmphys app`` as a server (issue 16, item 10): a foreign Host header is refused, idle
kernels are culled, SIGTERM or SIGINT leaves no process behind and nothing listening, and the
page, rendered by the app's own Voilà template, asks no other site for anything.

Each server test starts ``python -m llmphys app`` on a free loopback port in its own process
group (killed whatever happens) and talks to it over plain HTTP; no browser.  A page request
makes Voilà run the app's notebook in a kernel, a child process of the server: the kernels are
counted by reading ``/proc``.  One test (marker ``browser``) runs the template's address-bar
script in Debian's chromium, on a page served from memory (no server, no network).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from llmphys.app.server import TEMPLATE, is_local_host, share_path, voila_arguments

from support import start_app

pytest.importorskip("voila", reason="the app server needs the app extra")
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

START = 90  # seconds for the server to listen
PAGE = 120  # seconds for a page (Voilà runs the notebook before it answers)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the kernels Voilà started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s")
        time.sleep(0.25)


def _get(port: int, path: str = "/", host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if host is not None:
        request.add_unredirected_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=PAGE) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def _server(tmp_path: Path, *options: str) -> Iterator[tuple[subprocess.Popen, int, Path]]:
    port = _free_port()
    log = tmp_path / "server.log"
    process = start_app(tmp_path, port, *options)
    try:
        deadline = time.monotonic() + START
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llmphys app did not start:\n{log.read_text()}")
            time.sleep(0.3)
        yield process, port, log
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def test_local_host_headers():
    assert is_local_host("localhost:8866") and is_local_host("LOCALHOST")
    assert is_local_host("127.0.0.1") and is_local_host("127.3.4.5:80")
    assert is_local_host("[::1]:8866") and is_local_host("[::1]")
    for foreign in (
        "evil.example",
        "evil.example:8866",
        "localhost.evil.example",
        "10.0.0.1",
        "0.0.0.0",
        "",
        "[::1",
        "127.0.0.1:80:80",
        "[::ffff:8.8.8.8]",
    ):
        assert not is_local_host(foreign), foreign


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_server_leaves_nothing_behind(tmp_path, stop):
    with _server(tmp_path) as (process, port, log):
        status, body = _get(port)
        assert status == 200 and b"voila" in body.lower(), log.read_text()
        kernels = _children(process.pid)
        assert kernels, "a page view starts a kernel"
        process.send_signal(stop)  # to the server's PID only, as a user or a supervisor does
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"llmphys app did not stop on {stop.name}:\n{log.read_text()}")
        _wait(lambda: not any(_alive(k) for k in kernels), 30, "its kernels did not exit")
        assert not _listening(port), "nothing listens once the server has stopped"


def test_a_foreign_host_is_refused_and_idle_kernels_are_culled(tmp_path):
    with _server(tmp_path, "--cull-idle", "4") as (process, port, log):
        # DNS rebinding: a request to this port that names another site is refused, static
        # files and the API included, before any kernel starts
        for path in ("/", "/api/kernels", "/voila/static/voila.js", "/nothing-here"):
            status, body = _get(port, path, host=f"evil.example:{port}")
            assert status == 403 and b"localhost" in body, (path, status)
        assert _children(process.pid) == []
        assert _get(port, "/", host=f"localhost:{port}")[0] == 200
        # two page views fetched by a script (no browser connects): two idle kernels, both
        # culled (on a loaded machine the first may go while the second page still renders)
        assert _get(port)[0] == 200
        assert log.read_text().count("Kernel started") == 2, log.read_text()
        _wait(lambda: _children(process.pid) == [], 60, "idle kernels were not culled")
        assert log.read_text().count("Culling 'idle' kernel") == 2, log.read_text()
        # the server still serves after culling
        assert _get(port)[0] == 200 and len(_children(process.pid)) == 1


# ----------------------------------------------------------------------------- the page
#: the tags whose attribute makes the browser fetch something
_FETCHED = {"link": "href", "script": "src", "img": "src", "iframe": "src", "source": "src"}


class _Page(HTMLParser):
    """What a page asks the browser to fetch (and from where), its meta tags, its scripts and
    styles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.meta: dict[str, str] = {}
        self.scripts: list[str] = []  # the text of each inline script the browser runs
        self.styles: list[str] = []
        self._open: tuple[str, dict[str, str]] | None = None
        self._text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag in _FETCHED and _FETCHED[tag] in found:
            self.fetched.append(found[_FETCHED[tag]])
        if tag == "meta" and "name" in found:
            self.meta[found["name"]] = found.get("content", "")
        if tag in ("script", "style"):
            self._open, self._text = (tag, found), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or tag != self._open[0]:
            return
        (kind, attrs), text = self._open, "".join(self._text)
        self._open = None
        if kind == "style":
            self.styles.append(text)
        elif "src" not in attrs and attrs.get("type", "text/javascript") in (
            "text/javascript", "module"
        ):  # fmt: skip
            self.scripts.append(text)


_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)  # http://, https://, //


def test_voila_arguments_name_the_apps_template():
    arguments = voila_arguments(9000, open_browser=False)
    assert f"--template={TEMPLATE}" in arguments and TEMPLATE == "llmphys"
    folder = share_path() / "voila" / "templates" / TEMPLATE
    assert json.loads((folder / "conf.json").read_text()) == {"base_template": "lab"}
    assert (folder / "index.html.j2").is_file()


def test_voila_finds_the_template_through_jupyter_path(monkeypatch):
    from voila.paths import collect_static_paths, collect_template_paths

    monkeypatch.setenv("JUPYTER_PATH", str(share_path()))
    apps = ["voila", "nbconvert"]
    templates = collect_template_paths(apps, TEMPLATE, prune=True)
    assert templates[0] == str(share_path() / "voila" / "templates" / TEMPLATE)
    assert any(Path(p).parts[-2:] == ("templates", "lab") for p in templates)  # its base
    static = [Path(p) for p in collect_static_paths(apps, TEMPLATE)]
    assert any((p / "voila.js").is_file() for p in static)  # lab's, which bundles the fonts


def test_the_page_fetches_nothing_from_another_site(tmp_path):
    with _server(tmp_path) as (_, port, log):
        status, body = _get(port)
    assert status == 200, log.read_text()
    html = body.decode()
    page = _Page(html)
    assert page.meta.get("generator") == "llmphys app"  # the app's template rendered it
    assert page.fetched, "the page loads voila.js and its styles"
    assert [url for url in page.fetched if _REMOTE.match(url)] == []
    assert all(url.startswith(("/", "data:")) for url in page.fetched), page.fetched
    assert "/voila/static/voila.js" in page.fetched
    # nor does anything it runs or styles name another site (nbconvert's Mermaid loader
    # imports from cdnjs; a stylesheet could @import a font)
    assert [s for s in page.scripts if "://" in s] == []
    assert [s for s in page.styles if re.search(r"url\(\s*['\"]?(?:https?:)?//", s)] == []
    # the address-bar script is there, inline
    sync = [s for s in page.scripts if "history.replaceState" in s]
    assert len(sync) == 1 and "a.llmphys-share" in sync[0] and "MutationObserver" in sync[0]


def _sync_script() -> str:
    """The template's address-bar script (the one inline ``<script>`` in it)."""
    template = share_path() / "voila" / "templates" / TEMPLATE / "index.html.j2"
    (script,) = re.findall(r"<script>(.*?)</script>", template.read_text(), re.DOTALL)
    return script


@pytest.mark.browser
def test_the_address_bar_follows_the_share_link(browser: Any) -> None:
    origin = "http://app.test"  # served from memory by the route below: no server, no network
    html = f"<!DOCTYPE html><html><body><script>{_sync_script()}</script></body></html>"
    context = browser.new_context()
    requested: list[str] = []

    def from_memory(route: Any) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith(origin + "/"):
            route.fulfill(status=200, content_type="text/html", body=html)
        else:
            route.abort()

    context.route("**/*", from_memory)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(origin + "/?model=old")
        depth = page.evaluate("history.length")
        # the anchor appears: the address becomes its link, resolved against the page
        page.evaluate("""() => {
            const a = document.createElement('a');
            a.className = 'llmphys-share';
            a.href = '?model=llama-3.1-8b&tp=4';
            document.body.appendChild(document.createElement('div')).appendChild(a);
        }""")
        page.wait_for_function("location.search === '?model=llama-3.1-8b&tp=4'", timeout=5000)
        # its href changes: the address follows
        page.evaluate("document.querySelector('a.llmphys-share').href = '?model=qwen&tp=2'")
        page.wait_for_function("location.search === '?model=qwen&tp=2'", timeout=5000)
        # a link to another site is never put in the address bar
        page.evaluate(
            "document.querySelector('a.llmphys-share').href = 'https://evil.example/?tp=8'"
        )
        page.wait_for_timeout(200)
        assert page.evaluate("location.href") == origin + "/?model=qwen&tp=2"
        assert page.evaluate("history.length") == depth  # replaced, never pushed
        assert requested == [origin + "/?model=old"]  # nothing reloaded, nothing fetched
        assert errors == []
    finally:
        context.close()
