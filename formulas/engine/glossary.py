"""The glossary machinery: one :class:`Entry` per symbol, kept by name.

What a symbol *is* (its python name, conventional display symbol, unit, meaning, domain and
slider range) lives here, keyed by name, and never on the SymPy ``Symbol`` itself: SymPy caches
symbols by name and assumptions, so an attribute set on one would leak into every later symbol
of the same name.

The entries themselves (the physics vocabulary) are in :mod:`llmphys.symbols`; formula outputs
are added by the ``@formula`` decorator.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import pint
import sympy

from llmphys.errors import FormulaDefinitionError, UnknownNameError, did_you_mean
from llmphys.units import describe_dimension, ureg

__all__ = ["DOMAINS", "WIDEST_ELEMENT", "Domain", "Entry", "Glossary", "glossary"]

Domain = Literal["positive", "nonnegative", "fraction", "unit_interval"]

#: The widest element a named precision stores: FP64's 8 bytes.  An input with named
#: precisions (``choices``) is a size per element or per parameter, never more: 2 GB given for
#: ``kv_bytes`` is a total where a precision was asked.
WIDEST_ELEMENT = 8.0

#: What each domain allows, as a user reads it.
DOMAINS: dict[str, str] = {
    "positive": "positive",
    "nonnegative": "zero or positive",
    "fraction": "a fraction in (0, 1]",
    "unit_interval": "a fraction in [0, 1]",
}


@dataclass(frozen=True)
class Entry:
    """One symbol of the glossary.

    ``unit`` is the symbol's own unit: plain numbers given for it are read in this unit, and
    formulas compute in it.  ``choices`` maps names to values in that unit (named precisions).
    ``kind`` is ``"input"`` for a quantity a user gives and ``"output"`` for a formula's result.
    """

    name: str
    latex: str
    text: str
    unit: str
    meaning: str
    domain: Domain = "positive"
    integer: bool = False
    default: float | None = None
    range: tuple[float, float] | None = None
    choices: Mapping[str, float] | None = field(default=None, compare=False)
    kind: Literal["input", "output"] = "input"

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise FormulaDefinitionError(f"glossary: {self.name!r} is not a python identifier")
        if self.domain not in DOMAINS:
            raise FormulaDefinitionError(
                f"glossary: {self.name!r} has unknown domain {self.domain!r}; "
                f"use one of {', '.join(DOMAINS)}"
            )
        ureg.Unit(self.unit)  # an unknown unit fails here, at definition
        if self.range is not None:
            lo, hi = self.range
            if not 0 <= lo < hi:
                raise FormulaDefinitionError(f"glossary: {self.name!r} has range {self.range}")

    @property
    def zero_allowed(self) -> bool:
        """Whether 0 is a value of this symbol (``new_tokens``, a switch, an overlap)."""
        return self.domain in ("nonnegative", "unit_interval")

    @cached_property
    def symbol(self) -> sympy.Symbol:
        """The SymPy symbol, with the assumptions the domain implies (for ``solve``)."""
        assumptions: dict[str, bool] = {}
        if self.domain in ("positive", "fraction"):
            assumptions["positive"] = True
        else:
            assumptions["nonnegative"] = True
        if self.integer:
            assumptions["integer"] = True
        else:
            assumptions["real"] = True
        return sympy.Symbol(self.name, **assumptions)

    @cached_property
    def pint_unit(self) -> pint.Unit:
        return ureg.Unit(self.unit)

    @property
    def dimension(self) -> str:
        return describe_dimension(self.pint_unit)

    @property
    def unit_text(self) -> str:
        """The unit as printed (``B``, ``FLOP/s``), empty for a plain number."""
        return f"{self.pint_unit:~P}"

    @property
    def log_scale(self) -> bool:
        """Whether a slider should be logarithmic (its range spans more than two decades)."""
        if self.range is None or self.range[0] <= 0:
            return False
        return math.log10(self.range[1] / self.range[0]) > 2

    def describe(self) -> str:
        """The entry in one line: ``S: context length (tokens cached per sequence), in token``.

        Returns
        -------
        str
            Symbol, meaning and unit.
        """
        unit = self.unit_text
        return f"{self.text}: {self.meaning}" + (f", in {unit}" if unit else "")


class Glossary(Mapping[str, Entry]):
    """Every symbol once, by python name.  Adding a name twice is refused.

    A glossary with a ``parent`` sees the parent's entries and adds its own without touching
    the parent (user formulas, scratch definitions in tests).
    """

    def __init__(self, parent: Glossary | None = None) -> None:
        self.parent = parent
        self._entries: dict[str, Entry] = {}
        self._order: dict[str, int] = {}

    def add(self, entry: Entry) -> Entry:
        if entry.name in self:
            raise FormulaDefinitionError(
                f"glossary: {entry.name!r} is already defined "
                f"({self[entry.name].meaning}); every symbol is defined once"
            )
        self._entries[entry.name] = entry
        self._order[entry.name] = len(self._order)
        return entry

    def __contains__(self, name: object) -> bool:
        return name in self._entries or (self.parent is not None and name in self.parent)

    def __getitem__(self, name: str) -> Entry:
        if name in self._entries:
            return self._entries[name]
        if self.parent is not None and name in self.parent:
            return self.parent[name]
        raise UnknownNameError(f"unknown symbol {name!r}{did_you_mean(name, self)}", name)

    def __iter__(self) -> Iterator[str]:
        if self.parent is not None:
            yield from self.parent
        yield from self._entries

    def __len__(self) -> int:
        return len(self._entries) + (len(self.parent) if self.parent is not None else 0)

    def symbol(self, name: str) -> sympy.Symbol:
        return self[name].symbol

    def order(self, name: str) -> int:
        """Definition order, used to list a formula's inputs in a stable, readable order.

        Parameters
        ----------
        name
            A symbol's name.

        Returns
        -------
        int
            Its position (a parent's entries first; an unknown name sorts last).
        """
        if name in self._order:
            offset = len(self.parent) if self.parent is not None else 0
            return offset + self._order[name]
        if self.parent is not None and name in self.parent:
            return self.parent.order(name)
        return len(self)

    def inputs(self) -> list[Entry]:
        return [self[name] for name in self if self[name].kind == "input"]


#: The one glossary of llmphys.
glossary = Glossary()
