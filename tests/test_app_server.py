"""``llmphys app`` as a server (issue 16, item 10): a foreign Host header is refused, idle
kernels are culled, and SIGTERM or SIGINT leaves no process behind and nothing listening.

Each test starts ``python -m llmphys app`` on a free loopback port in its own process group
(killed whatever happens) and talks to it over plain HTTP; no browser.  A page request makes
Voilà run the app's notebook in a kernel, a child process of the server: the kernels are
counted by reading ``/proc``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmphys.app.server import is_local_host

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
        # two page views fetched by a script (no browser connects): two idle kernels
        assert _get(port)[0] == 200
        assert len(_children(process.pid)) == 2, log.read_text()
        _wait(lambda: _children(process.pid) == [], 60, "idle kernels were not culled")
        assert "Culling kernel" in log.read_text() or "culling" in log.read_text().lower()
        # the server still serves after culling
        assert _get(port)[0] == 200 and len(_children(process.pid)) == 1
