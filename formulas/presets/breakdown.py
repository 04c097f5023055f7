"""A model's parameters by component: :class:`Breakdown`, the table
:meth:`llmphys.presets.Model.params_breakdown` returns (one :class:`BreakdownRow` per
component: embeddings, attention, norms, feed-forward blocks, experts, routers, final norm),
shown as text or Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Breakdown", "BreakdownRow"]


@dataclass(frozen=True)
class BreakdownRow:
    """One component of a parameter count: ``count`` blocks of ``each`` parameters."""

    component: str
    formula: str
    each: int
    count: int
    active_count: int
    count_text: str
    active_count_text: str
    #: the config.json fields its number came from (a model read from a config)
    fields: str = ""

    @property
    def total(self) -> int:
        return self.each * self.count

    @property
    def active(self) -> int:
        return self.each * self.active_count


@dataclass(frozen=True)
class Breakdown:
    """Parameters of a model by component; ``str()`` gives a table."""

    model: str
    rows: tuple[BreakdownRow, ...]
    total: int
    active: int
    #: components stored beside the model but outside its count (multi-token prediction)
    apart: tuple[BreakdownRow, ...] = ()

    def _cells(self, rows: tuple[BreakdownRow, ...]) -> list[tuple[str, ...]]:
        def count(text: str, n: int) -> str:
            return f"{n:,}" if text == f"{n}" else f"{text} = {n:,}"

        return [
            (
                r.component,
                f"{r.each:,}",
                count(r.count_text, r.count),
                count(r.active_count_text, r.active_count),
                f"{r.total:,}",
                f"{r.active:,}",
                *((r.fields,) if self._from else ()),
            )
            for r in rows
        ]

    @property
    def _from(self) -> bool:
        """Whether the rows name the config fields they came from (a model read from one)."""
        return any(r.fields for r in (*self.rows, *self.apart))

    def _head(self) -> tuple[str, ...]:
        head = ("component", "each", "count", "active count", "total", "active")
        return (*head, "from config fields") if self._from else head

    def __str__(self) -> str:
        head = self._head()
        blank = ("",) * (len(head) - 6)
        body = [
            *self._cells(self.rows),
            ("sum", "", "", "", f"{self.total:,}", f"{self.active:,}", *blank),
            *self._cells(self.apart),
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = [f"{self.model}: parameters by component"]
        for i, row in enumerate([head, *body]):
            cells = [
                row[0].ljust(widths[0]),
                *(c.rjust(w) for c, w in zip(row[1:6], widths[1:6], strict=True)),
                *(c.ljust(w) for c, w in zip(row[6:], widths[6:], strict=True)),
            ]
            lines.append("  ".join(cells).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        head = self._head()
        lines = [
            f"**{self.model}**: parameters by component",
            "",
            f"| {' | '.join(head)} |",
            "|---|" + "---:|" * 5 + "---|" * (len(head) - 6),
        ]
        lines += [f"| {' | '.join(cells)} |" for cells in self._cells(self.rows)]
        blank = " |" * (len(head) - 6)
        lines.append(f"| **sum** | | | | **{self.total:,}** | **{self.active:,}** |{blank}")
        lines += [f"| {' | '.join(cells)} |" for cells in self._cells(self.apart)]
        return "\n".join(lines)
