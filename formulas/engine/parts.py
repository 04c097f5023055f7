"""Parts of a composite formula: :class:`Part` (a formula used inside another, possibly at
substituted inputs) and :class:`PartRef` (what a composite's body receives for a parameter
named after a formula)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula


@dataclass(frozen=True, eq=False)
class Part:
    """A formula used inside a composite, possibly at substituted inputs.

    ``symbol`` stands for the part's value in the composite's expression.  A part used as is
    (no substitutions) is *overridable*: a caller may give its value instead of its inputs
    (``total_vram(weight_bytes=Q_(140, "GB"), ...)``).
    """

    formula: Formula
    subs: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    symbol: sympy.Symbol

    @property
    def overridable(self) -> bool:
        return not self.subs

    @property
    def name(self) -> str:
        """The part's name; for a part used as is, the name it has in the composite's expression
        (so a part swapped by ``with_parts`` is still given, kept and listed by that name)."""
        return self.symbol.name if self.overridable else self.formula.name


class PartRef:
    """What a composite's body receives for a parameter named after a formula.

    Behaves as the part's symbol in arithmetic; ``.at(**subs)`` uses the formula at
    substituted inputs (``weight_bytes.at(params=active_params)``).
    """

    def __init__(
        self,
        target: Formula,
        collector: dict[sympy.Symbol, PartRef],
        subs: dict[str, Any] | None = None,
    ) -> None:
        self.formula = target
        self.subs = dict(subs or {})
        self._collector = collector
        if self.subs:
            inner = ", ".join(f"{k}={sympy.sympify(v)}" for k, v in sorted(self.subs.items()))
            self.symbol = sympy.Symbol(f"{target.name}({inner})", positive=True)
        else:
            self.symbol = target.symbol
        collector[self.symbol] = self

    def at(self, **subs: Any) -> PartRef:
        return PartRef(self.formula, self._collector, subs)

    def _sympy_(self) -> sympy.Symbol:
        return self.symbol

    def __add__(self, other: Any) -> sympy.Expr:
        return self.symbol + sympy.sympify(other)

    def __radd__(self, other: Any) -> sympy.Expr:
        return sympy.sympify(other) + self.symbol

    def __sub__(self, other: Any) -> sympy.Expr:
        return self.symbol - sympy.sympify(other)

    def __rsub__(self, other: Any) -> sympy.Expr:
        return sympy.sympify(other) - self.symbol

    def __mul__(self, other: Any) -> sympy.Expr:
        return self.symbol * sympy.sympify(other)

    def __rmul__(self, other: Any) -> sympy.Expr:
        return sympy.sympify(other) * self.symbol

    def __truediv__(self, other: Any) -> sympy.Expr:
        return self.symbol / sympy.sympify(other)

    def __rtruediv__(self, other: Any) -> sympy.Expr:
        return sympy.sympify(other) / self.symbol

    def __pow__(self, other: Any) -> sympy.Expr:
        return self.symbol ** sympy.sympify(other)

    def __neg__(self) -> sympy.Expr:
        return -self.symbol
