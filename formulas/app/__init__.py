"""The sizing web app (``llmphys.app``): the toolkit's figures as a page, served by Voilà.

Pick a model (a preset, or upload a Hugging Face ``config.json``), an accelerator, weight and
KV precisions, prompt and output lengths, batch and tensor-parallel GPUs, the assumption set;
read the memory breakdown per GPU against the capacity,
the largest context and batch that fit, the fewest GPUs, the decode speed bound and the time
to first token, each with its derivation on demand; ask inverse questions with "solve for".
Every figure is a figure of one :class:`llmphys.Scenario` (see :mod:`llmphys.app.figures`).

Launch it with ``llmphys app`` (Voilà on 127.0.0.1, port 8866), or::

    voila "$(python -c 'import llmphys.app as a; print(a.notebook_path())')" \\
        --Voila.ip=127.0.0.1 --port=8866

In a notebook: ``from llmphys.app import SizingApp; SizingApp()``.

This package is light to import (the command line uses it to find the notebook);
:class:`SizingApp` loads ipywidgets when first asked for.  Neither is imported by
``import llmphys``.  Needs ``pip install "llmphys[app]"``.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["NOTEBOOK", "SizingApp", "notebook_path", "voila_command"]

#: File name of the app's notebook (package data; ``notebooks/sizing_app.ipynb`` is a copy).
NOTEBOOK = "sizing_app.ipynb"


def notebook_path() -> Path:
    """Where the app's notebook is installed (the file Voilà serves)."""
    return Path(str(resources.files(__name__).joinpath(NOTEBOOK)))


def voila_command(
    port: int = 8866, open_browser: bool = True, notebook: str | Path | None = None
) -> list[str]:
    """The command that serves the app with Voilà, bound to 127.0.0.1 (loopback only).

    Errors reach the page as the toolkit's messages; Voilà's own tracebacks stay off.

    >>> cmd = voila_command(9000, open_browser=False)
    >>> cmd[1:3], cmd[4:]
    (['-m', 'voila'], ['--Voila.ip=127.0.0.1', '--port=9000', '--Voila.port_retries=0', \
'--show_tracebacks=False', '--no-browser'])
    """
    command = [
        sys.executable,
        "-m",
        "voila",
        str(notebook or notebook_path()),
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--show_tracebacks=False",
    ]
    if not open_browser:
        command.append("--no-browser")
    return command


def __getattr__(name: str) -> Any:
    if name == "SizingApp":
        from llmphys.app.page import SizingApp

        return SizingApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
