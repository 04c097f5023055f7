"""The answer of an inverse question: :class:`Solution`, the document of a solve (the
question, the rearranged formula, the numbers, the rounding and its check), with its text,
LaTeX, Markdown and dict renderings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pint
import sympy

from llmphys.engine.compiled import compile_expression
from llmphys.engine.formatting import format_quantity, latex_text, text_number
from llmphys.engine.render import (
    Rendered,
    aligned,
    html_document,
    markdown_document,
    render_expression,
    render_with_values,
    value_text,
)
from llmphys.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula


Bound = Literal["at_most", "at_least", "equal"]


_BOUNDS = ("at_most", "at_least", "equal")


_RELATION = {"at_most": "≤", "at_least": "≥", "equal": "="}


_RELATION_LATEX = {"at_most": r"\le", "at_least": r"\ge", "equal": "="}


@dataclass
class Solution:
    """The answer to an inverse question, with how it was found and its derivation."""

    formula: Formula
    unknown: str
    target: pint.Quantity | None
    bound: Bound
    method: Literal["symbolic", "numeric"]
    rearranged: sympy.Expr | None
    expression: sympy.Expr | None = None
    exact: pint.Quantity | None = None
    value: pint.Quantity | None = None
    direction: Literal["largest", "smallest", "exact"] = "exact"
    monotonic: Literal["increasing", "decreasing"] | None = None
    rounding: Literal["floor", "ceil", "nearest"] | None = None
    check: pint.Quantity | None = None
    free: list[str] = field(default_factory=list)
    given: dict[str, float] = field(default_factory=dict)
    note: str = ""
    keep: frozenset[str] = frozenset()
    #: the rearranged formula once the given numbers settle its max, min and steps: found
    #: when ``method`` or ``rearranged`` is first read (a page that shows the answer but not
    #: its derivation never pays the SymPy solve it costs); None when there is nothing to find
    refine: Callable[[], sympy.Expr | None] | None = field(
        default=None, repr=False, compare=False
    )

    def _settle(self) -> None:
        """Run :attr:`refine` once: a closed form found makes the answer ``symbolic``."""
        refine = self.__dict__.get("refine")
        if refine is not None:
            self.__dict__["refine"] = None
            found = refine()
            if found is not None:
                self.__dict__["rearranged"], self.__dict__["method"] = found, "symbolic"

    # ---------------------------------------------------------------- conveniences
    @property
    def is_symbolic(self) -> bool:
        """True when inputs were left free and the answer is an expression."""
        return bool(self.free)

    @property
    def magnitude(self) -> float:
        """The answer as a plain number in the unknown's glossary unit."""
        if self.value is None:
            raise InputError(
                f"solve {self.formula.name} for {self.unknown}: the answer is symbolic in "
                f"{', '.join(self.free)}; give them or use .expression / .lambdify()"
            )
        return float(self.value.magnitude)

    def lambdify(self) -> Callable[..., Any]:
        """The (unrounded) answer as a numpy function of the free inputs, in
        ``self.free`` order (for frontier plots: largest context as a function of batch).

        Returns
        -------
        callable
            float64 numbers in glossary units in, the unknown in its glossary unit out.

        Raises
        ------
        InputError
            The answer has no closed form (it was found numerically).
        """
        if self.expression is None:
            raise InputError(
                f"solve {self.formula.name} for {self.unknown}: no closed form to compile "
                f"(found by the {self.method} path)"
            )
        gloss = self.formula.registry.glossary
        args = [gloss.symbol(n) if n in gloss else self.formula.symbol for n in self.free]
        return compile_expression(args, self.expression)

    # ---------------------------------------------------------------- rendering
    def _sym(self, name: str) -> Rendered:
        entry = self.formula.registry.glossary[name]
        return Rendered(entry.latex, entry.text)

    def _question(self) -> Rendered:
        x = self._sym(self.unknown)
        f = self.formula.entry
        word = {"largest": "largest ", "smallest": "smallest ", "exact": ""}[self.direction]
        if self.target is None:
            target = Rendered(f.latex, f.text)
        else:
            target = Rendered(
                format_quantity(self.target, latex=True), format_quantity(self.target)
            )
        rel = _RELATION[self.bound]
        return Rendered(
            rf"\text{{{word}}}{x.latex}\;\text{{with}}\;{f.latex} {_RELATION_LATEX[self.bound]} "
            f"{target.latex}",
            f"{word}{x.text} with {f.text} {rel} {target.text}",
        )

    def _lines(self) -> list[tuple[Rendered, Rendered, str]]:
        """(left, right, note) rows: rearranged, substituted, value, rounding, check."""
        f = self.formula
        x = self._sym(self.unknown)
        rows: list[tuple[Rendered, Rendered, str]] = []
        definition = _render(f, f.expand(self.keep))
        rows.append((Rendered(f.entry.latex, f.entry.text), definition, "definition"))
        if self.rearranged is not None:
            rows.append((x, _render(f, self.rearranged), f"rearranged, {self.method}"))
        else:
            rows.append(
                (
                    x,
                    Rendered(r"\text{root of the definition}", "root of the definition"),
                    "no closed form: bracketed numeric root",
                )
            )
        if self.rearranged is not None and (self.given or self.target is not None):
            shown = {}
            gloss = f.registry.glossary
            for name, value in self.given.items():
                sym = gloss.symbol(name) if name in gloss else None
                if sym is None:
                    continue
                unit = (
                    gloss[name].pint_unit if gloss[name].kind == "input" else f.registry[name].unit
                )
                shown[sym] = value_text(value, unit, exact=gloss[name].kind == "input", sig=6)
            if self.target is not None:
                shown[f.symbol] = value_text(
                    float(self.target.to(f.unit).magnitude), f.unit, exact=False, sig=6
                )
            rows.append((x, render_with_values(f, self.rearranged, shown), "substituted"))
        if self.is_symbolic and self.expression is not None:
            rows.append((x, _render(f, self.expression), f"free: {', '.join(self.free)}"))
            return rows
        if self.exact is not None:
            entry = f.registry.glossary[self.unknown]
            exact = value_text(float(self.exact.magnitude), entry.pint_unit, exact=False, sig=8)
            rows.append((x, exact, "unrounded" if self.rounding else "solution"))
            if self.rounding is not None and self.value is not None:
                shown = value_text(float(self.value.magnitude), entry.pint_unit, exact=True, sig=6)
                why = {
                    "floor": f"rounded down: the largest whole {x.text} that keeps the bound",
                    "ceil": f"rounded up: the smallest whole {x.text} that meets the bound",
                    "nearest": "rounded to the nearest whole number",
                }[self.rounding]
                rows.append((x, shown, why))
        if self.check is not None and self.value is not None:
            entry = f.registry.glossary[self.unknown]
            at = value_text(
                float(self.value.magnitude), entry.pint_unit, exact=entry.integer, sig=6
            )
            got = Rendered(
                format_quantity(self.check, sig=6, latex=True), format_quantity(self.check, sig=6)
            )
            rel = _RELATION[self.bound]
            target = self.target
            rows.append(
                (
                    Rendered(
                        f"{f.entry.latex}({x.latex} = {at.latex})",
                        f"{f.entry.text}({x.text} = {at.text})",
                    ),
                    got,
                    f"check: {rel} {format_quantity(target, sig=6)}" if target is not None else "",
                )
            )
        return rows

    def __str__(self) -> str:
        head = f"solve {self.formula.name} for {self.unknown}: {self._question().text}"
        rows = self._lines()
        width = max(len(left.text) for left, _, _ in rows)
        body = [
            f"  {left.text.ljust(width)} = {right.text}" + (f"    ({note})" if note else "")
            for left, right, note in rows
        ]
        lines = [head, *body]
        answer = self._answer_text()
        if answer:
            lines.append(f"answer: {answer}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    @property
    def question(self) -> str:
        """The question, in words: ``largest S with M_KV ≤ 40 GB``."""
        return self._question().text

    @property
    def answer(self) -> str:
        """The answer, in words (``S = 122,070 tok``), or ``""`` when there is none."""
        return self._answer_text()

    def _answer_text(self) -> str:
        entry = self.formula.registry.glossary[self.unknown]
        if self.value is None:
            return ""
        if entry.integer:  # a count: every digit
            number = text_number(float(self.value.magnitude), exact=True)
            unit = f" {entry.unit_text}" if entry.unit_text else ""
            return f"{entry.text} = {number}{unit}"
        return f"{entry.text} = {format_quantity(self.value, sig=4)}"

    def __repr__(self) -> str:
        return f"<Solution {self.formula.name} for {self.unknown}: {self._answer_text() or '...'}>"

    def latex(self) -> str:
        rows = [
            (left.latex, right.latex + (rf"\quad\text{{({latex_text(note)})}}" if note else ""))
            for left, right, note in self._lines()
        ]
        return aligned([rows])

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex()}\n$$"

    def _repr_markdown_(self) -> str:
        head = f"**solve {self.formula.name} for {self.unknown}**: ${self._question().latex}$"
        return markdown_document(head, self.latex(), ["", self.note] if self.note else [])

    def _repr_html_(self) -> str:
        head = f"solve {self.formula.name} for {self.unknown}: {self._question().text}"
        answer = self._answer_text()
        after = [f"answer: {answer}" if answer else "", self.note]
        return html_document(head, self.latex(), after)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the question, the answer and every step.

        Returns
        -------
        dict
            JSON-serialisable; each quantity as ``{"value", "unit", "readable"}``.
        """

        def q(x: pint.Quantity | None) -> dict[str, Any] | None:
            if x is None:
                return None
            return {
                "value": float(x.magnitude),
                "unit": f"{x.units:~P}",
                "readable": format_quantity(x, sig=6),
            }

        return {
            "formula": self.formula.name,
            "unknown": self.unknown,
            "question": self.question,
            "bound": self.bound,
            "direction": self.direction,
            "monotonic": self.monotonic,
            "method": self.method,
            "target": q(self.target),
            "exact": q(self.exact),
            "value": q(self.value),
            "rounding": self.rounding,
            "check": q(self.check),
            "rearranged": None
            if self.rearranged is None
            else {
                "latex": _render(self.formula, self.rearranged).latex,
                "text": _render(self.formula, self.rearranged).text,
                "sympy": str(self.rearranged),
            },
            "expression": None if self.expression is None else str(self.expression),
            "free": self.free,
            "given": self.given,
            "steps": [
                {
                    "left": left.text,
                    "right": right.text,
                    "latex": f"{left.latex} = {right.latex}",
                    "note": note,
                }
                for left, right, note in self._lines()
            ],
            "answer": self._answer_text(),
            "note": self.note,
        }


def _render(formula: Formula, expr: sympy.Basic) -> Rendered:
    return render_expression(formula, expr)


def _settled(name: str, doc: str) -> property:
    """A field of :class:`Solution` read after :meth:`Solution._settle` (see ``refine``)."""

    def get(self: Solution) -> Any:
        self._settle()
        return self.__dict__[name]

    def set_(self: Solution, value: Any) -> None:
        self.__dict__[name] = value

    return property(get, set_, doc=doc)


Solution.method = _settled(  # type: ignore[assignment]
    "method", "How the answer was found: ``symbolic`` (a closed form) or ``numeric``."
)
Solution.rearranged = _settled(  # type: ignore[assignment]
    "rearranged", "The formula rearranged for the unknown (numbers in), or None."
)

