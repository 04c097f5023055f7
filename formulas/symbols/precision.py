"""Precision symbols beyond the seed's ``bytes_per_param``: weights stored at several precisions
(routed experts, embeddings and head) and the block-scaled formats' parts (values, shared
scales, group size).  See :mod:`llmphys.weight_precision`."""

from __future__ import annotations

from llmphys.symbols import seed  # noqa: F401  (the seed's symbols come first in reading order)
from llmphys.symbols.table import declare

__all__ = ["PRECISION"]

#: Precision symbols, in reading order: the table precision.toml beside this module.
PRECISION = declare("precision.toml")
