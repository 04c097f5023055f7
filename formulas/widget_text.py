"""What an :class:`~llmphys.widgets.Explorer` says of its result: the value (bytes also in
binary units) and the answer of a solve with its question, rounding and check, as HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pint

from llmphys.controls import _escape
from llmphys.engine.formatting import format_quantity
from llmphys.units import ureg

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula
    from llmphys.engine.solution import Solution

__all__ = ["result_html", "solution_html"]


def result_html(formula: Formula, q: pint.Quantity) -> str:
    """The result line: the formula's symbol and value (three significant digits)."""
    shown = format_quantity(q, sig=3, latex=True)
    binary = ""
    if q.dimensionality == ureg.byte.dimensionality:
        binary = rf" = {format_quantity(q, sig=3, binary=True, latex=True)}"
    return f"<b>result</b>: ${formula.entry.latex} = {shown}{binary}$"


def solution_html(formula: Formula, s: Solution) -> str:
    """The answer of a solve: the question and the answer (the Solution's own words), how it
    was rounded and found, and the formula's value there (the check)."""
    lines = [f"<b>{_escape(s.question)}</b>: <b>{_escape(s.answer)}</b>"]
    if s.rounding is not None and s.exact is not None:
        how = {"floor": "rounded down", "ceil": "rounded up", "nearest": "rounded"}
        entry = formula.registry.glossary[s.unknown]
        unit = f" {entry.unit_text}" if entry.unit_text else ""
        lines.append(f"{how[s.rounding]} from {float(s.exact.magnitude):.10g}{unit} "
                     f"({_escape(s.method)} solve)")  # fmt: skip
    else:
        lines.append(f"({_escape(s.method)} solve)")
    if s.check is not None:
        lines.append(result_html(formula, s.check).replace("<b>result</b>", "check"))
    return "<br>".join(lines)
