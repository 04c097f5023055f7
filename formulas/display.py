"""Small display helpers for notebooks and terminals (no physics here).

>>> print(Table(["model", "KV per token"], [["llama-3.1-70b", "328 kB/tok"]]))
model          KV per token
-------------  ------------
llama-3.1-70b  328 kB/tok
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["Table"]


class Table:
    """Rows of already computed cells: Markdown in a notebook, aligned text in a terminal."""

    def __init__(self, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        self.header = [str(h) for h in header]
        self.rows = [[str(c) for c in row] for row in rows]
        for row in self.rows:
            if len(row) != len(self.header):
                raise ValueError(
                    f"Table: a row has {len(row)} cells, the header {len(self.header)}: {row}"
                )

    def _repr_markdown_(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        cells = [self.header, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.header))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Table {len(self.rows)} rows x {len(self.header)} columns>"
