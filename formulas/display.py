"""Small display helpers for notebooks and terminals (no physics here).

>>> print(Table(["model", "KV per token"], [["llama-3.1-70b", "328 kB/tok"]]))
model          KV per token
-------------  ------------
llama-3.1-70b  328 kB/tok
"""

from __future__ import annotations

import contextlib
import html
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["Answer", "Table", "answer"]


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


class Answer:
    """A worked answer shown folded: a "Show the answer" line that opens on a click (HTML
    ``<details>`` in JupyterLab, Voila and the docs), its text in a terminal."""

    def __init__(self, text: str, title: str = "Show the answer") -> None:
        self.text = text
        self.title = title

    def _repr_html_(self) -> str:
        body = html.escape(self.text.rstrip("\n"))
        return (
            f"<details class=\"llmphys-answer\"><summary>{html.escape(self.title)}</summary>"
            # lines scroll sideways rather than wrap mid-word (JupyterLab breaks a <pre>
            # anywhere in its outputs)
            f'<pre style="white-space:pre;overflow-x:auto;word-break:normal">{body}</pre>'
            "</details>"
        )

    def __repr__(self) -> str:
        return self.text.rstrip("\n")


@contextlib.contextmanager
def answer(title: str = "Show the answer") -> Iterator[None]:
    """Print a problem's answer folded: what the block prints is shown as an
    :class:`~llmphys.display.Answer`, closed until the reader opens it (running every cell
    does not give the answers away).

    Parameters
    ----------
    title
        The line shown while the answer is folded.

    Yields
    ------
    None
        Inside the ``with`` block, what is printed is caught; at its end it is shown folded
        (displayed in IPython, printed as text elsewhere).

    Examples
    --------
    >>> with answer():
    ...     print("42 GPUs")
    42 GPUs
    """
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        yield
    folded = Answer(printed.getvalue(), title)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with every notebook front end
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        from IPython.display import display

        display(folded)
    else:
        print(repr(folded))
