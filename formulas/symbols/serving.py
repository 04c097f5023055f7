"""Serving symbols: what running a deployment costs (price, power, facility overhead) and the
knobs of speculative decoding.

llmphys ships no prices as facts: the defaults here are examples for the widgets, labelled as
such, and every question takes the user's own figure.
"""

from __future__ import annotations

from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)
from llmphys.symbols.table import declare

__all__ = ["SERVING"]

#: Serving symbols, in reading order: the table serving.toml beside this module.
SERVING = declare("serving.toml")
