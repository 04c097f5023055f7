"""Symbols of the efficiency model: how far a real engine's forward pass sits from the
roofline, in a few physical terms (a fixed cost per pass and per layer, and a FLOP
utilization that saturates with the tokens of the pass).

A scenario takes their values from its assumption set: ``ideal`` and ``seed`` leave them out
(the roofline), ``typical`` gives the values fitted to published measurements
(:mod:`llmphys.calibration`).  The glossary's defaults are examples for widgets.
"""

from __future__ import annotations

from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)
from llmphys.symbols.table import declare

__all__ = ["EFFICIENCY"]

#: Symbols of the efficiency model, in reading order: the table efficiency.toml beside this module.
EFFICIENCY = declare("efficiency.toml")
