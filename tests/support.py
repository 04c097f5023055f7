"""Helpers shared by tests (importable because pytest puts tests/ on the path)."""

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


def start_app(folder: Path, port: int, *options: str) -> subprocess.Popen:
    """``python -m llmphys app`` on ``port`` (loopback), its output in ``folder/server.log``,
    in its own process group (so a test can always kill it and whatever it started), with
    Jupyter's runtime files kept in ``folder``."""
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
    env.pop("JUPYTER_CONFIG_DIR", None)
    with (folder / "server.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "llmphys", "app", "--port", str(port), "--no-browser", *options],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


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


def chromium_path() -> str:
    """Debian's chromium, which the browser tests drive (never a downloaded browser); a clear
    failure when it is missing."""
    import os
    import shutil

    import pytest

    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )
    if found is None:
        pytest.fail(
            "Debian's chromium is not installed, and the browser tests need it "
            "(apt-get install -y chromium; .ci/run does). Without it, run the rest of the "
            'suite with: pytest -m "not browser"',
            pytrace=False,
        )
    return found
