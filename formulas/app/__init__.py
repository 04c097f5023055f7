"""The sizing web app (``llmphys.app``): the toolkit's figures as a page, served by Voilà.

Pick a model (a preset, or upload a Hugging Face ``config.json``), an accelerator, weight and
KV precisions, prompt and output lengths, batch and tensor-parallel GPUs, the assumption set;
read the memory breakdown per GPU against the capacity,
the largest context and batch that fit, the fewest GPUs, the decode speed bound and the time
to first token, each with its derivation on demand; ask inverse questions with "solve for".
Every figure is a figure of one :class:`llmphys.Scenario` (see :mod:`llmphys.app.figures`).

Launch it with ``llmphys app`` (Voilà on 127.0.0.1, port 8866; see :mod:`llmphys.app.server`
for what it adds to plain Voilà: one process that SIGTERM stops cleanly, a Host check, idle
kernels culled).

In a notebook: ``from llmphys.app import SizingApp; SizingApp()``.

This package is light to import (the command line uses it to find the notebook);
:class:`SizingApp` loads ipywidgets when first asked for.  Neither is imported by
``import llmphys``.  Needs ``pip install "llmphys[app]"``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["NOTEBOOK", "SizingApp", "notebook_path"]

#: File name of the app's notebook (package data; ``notebooks/sizing_app.ipynb`` is a copy).
NOTEBOOK = "sizing_app.ipynb"


def notebook_path() -> Path:
    """Where the app's notebook is installed (the file Voilà serves)."""
    return Path(str(resources.files(__name__).joinpath(NOTEBOOK)))


def __getattr__(name: str) -> Any:
    if name == "SizingApp":
        from llmphys.app.page import SizingApp

        return SizingApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
