"""Helpers shared by tests (importable because pytest puts tests/ on the path) and by the
app's benchmark scripts (``benchmarks/app_session.py``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import llmphys as F

CASES = Path(__file__).parent / "cases"
CONFIGS = Path(__file__).parent / "fixtures" / "configs"


def load_cases(name: str) -> list[dict]:
    """The ``cases`` list of a golden-value file in tests/cases/."""
    return json.loads((CASES / name).read_text())["cases"]


def defaults_for(formula: F.Formula) -> dict[str, float]:
    """Glossary defaults for every input of ``formula``."""
    return {s.name: F.glossary[s.name].default for s in formula.inputs}


def for_formula(formula: F.Formula, values: dict) -> dict:
    """The subset of ``values`` that ``formula`` takes (see :meth:`llmphys.Formula.takes`)."""
    return formula.takes(values)


def config_fixture(name: str) -> dict:
    """A hand-written HF ``config.json`` of tests/fixtures/configs/ (``"llama"``: Llama-3.1-8B)."""
    return json.loads((CONFIGS / f"{name}.json").read_text())


def real_config(name: str) -> dict:
    """A real ``config.json`` of tests/fixtures/hf/ (``"qwen3_8b"``), without its provenance."""
    return json.loads((CONFIGS.parent / "hf" / f"{name}.json").read_text())["config"]


class HangError(AssertionError):
    """A case ran past its time limit: a hang, as far as a test is concerned."""


@contextmanager
def time_limit(seconds: int, what: str = "the case") -> Iterator[None]:
    """Fail with :class:`HangError` when the block runs longer than ``seconds`` (SIGALRM)."""

    def stop(signum: int, frame: Any) -> None:
        raise HangError(f"{what} took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def start_server(command: list[str], folder: Path, env: dict[str, str]) -> subprocess.Popen:
    """``command`` run in ``folder``, its output in ``folder/server.log``, in its own process
    group (so a test can always kill it and whatever it started: :func:`stop_app`)."""
    with (folder / "server.log").open("w") as log:
        return subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_app(folder: Path, port: int, *options: str) -> subprocess.Popen:
    """``python -m llmphys app`` on ``port`` (loopback) (:func:`start_server`), with
    Jupyter's runtime files kept in ``folder``."""
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
    env.pop("JUPYTER_CONFIG_DIR", None)
    command = [sys.executable, "-m", "llmphys", "app", "--port", str(port), "--no-browser"]
    return start_server([*command, *options], folder, env)


def stop_app(process: subprocess.Popen) -> None:
    """End the server's process group (the command, Voilà and its kernel)."""
    import contextlib

    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):  # a kernel left behind in the group
        os.killpg(process.pid, signal.SIGKILL)


class AppStartError(RuntimeError):
    """``llmphys app`` exited, or did not listen in time; the message carries its log."""


@contextmanager
def serving(folder: Path, start_within: float = 90) -> Iterator[str]:
    """``llmphys app`` on a free loopback port (:func:`start_app`), once it listens; its URL.
    Always stopped (:func:`stop_app`).  Raises :class:`AppStartError` with the server's log
    when it exits or does not listen within ``start_within`` seconds."""
    import socket
    import time

    from llmphys.app.server import free_port

    port = free_port()
    process = start_app(folder, port)
    log = folder / "server.log"
    try:
        deadline = time.monotonic() + start_within
        while True:
            if process.poll() is not None:
                raise AppStartError(
                    f"llmphys app exited ({process.returncode}):\n{log.read_text()}"
                )
            try:  # listening is enough: a page request would start a kernel of its own
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AppStartError(
                    f"llmphys app did not answer in {start_within:g} s:\n{log.read_text()}"
                )
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_app(process)


def loopback_only(context: Any, url: str, blocked: list[str] | None = None) -> None:
    """Let only ``url``'s server answer the Playwright browser ``context``: every other
    request is aborted (and recorded in ``blocked``): nothing is fetched from the network."""
    from urllib.parse import urlsplit

    here = urlsplit(url).netloc

    def route(request_route: Any) -> None:
        if urlsplit(request_route.request.url).netloc == here:
            request_route.continue_()
        else:
            if blocked is not None:
                blocked.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)


#: Chromium's flags on these machines: headless, no sandbox (root), no network of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """Debian's chromium (never a downloaded browser), or None when it is not installed."""
    import shutil

    return shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )


def chromium_path() -> str:
    """Debian's chromium, which the browser tests drive (never a downloaded browser); a clear
    failure when it is missing."""
    import pytest

    found = find_chromium()
    if found is None:
        pytest.fail(
            "Debian's chromium is not installed, and the browser tests need it "
            "(apt-get install -y chromium; .ci/run does). Without it, run the rest of the "
            'suite with: pytest -m "not browser"',
            pytrace=False,
        )
    return found
