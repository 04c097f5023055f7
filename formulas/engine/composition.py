"""A formula's parts: the chain a worked example follows, the parts whose value may be given
instead of their inputs, and the same formula with some parts computed by other formulas
(:meth:`Composite.with_parts`, how a model's variant is built).  :class:`~llmphys.Formula`
inherits these."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy

from llmphys.engine.parts import Part
from llmphys.errors import FormulaDefinitionError, UnitError, UnknownNameError, did_you_mean
from llmphys.units import UnitSymbol, describe_dimension, same_unit

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula, _Cache
    from llmphys.engine.registry import Registry

__all__ = ["Composite"]


class Composite:
    """The part structure of a :class:`~llmphys.Formula` (its base class)."""

    name: str
    expr: sympy.Expr
    parts: dict[sympy.Symbol, Part]
    registry: Registry
    _cache: _Cache

    def with_parts(self, **replacements: Formula) -> Formula:
        """This formula with some parts (at any depth) computed by other formulas.

        The physics of each variant is defined once, as its own formula; an architecture picks
        which one applies.  ``total_vram.with_parts(kv_cache_bytes=kv_cache_bytes_mla)`` is
        total VRAM for a model with multi-head latent attention: same definition, same
        derivation chain, the KV part swapped.  A replacement must have the part's unit.
        The result is not registered; it keeps this formula's name and display symbol.

        Parameters
        ----------
        **replacements
            Part name -> the formula that computes it instead.

        Returns
        -------
        Formula
            The variant (this formula itself when nothing is replaced).

        Raises
        ------
        UnknownNameError
            A name is not a part of this formula.
        UnitError
            A replacement's unit is not its part's.
        FormulaDefinitionError
            A replacement is not a formula, or does not take an input the part is used at.
        """
        if not replacements:
            return self
        where = f"formula '{self.name}'"
        for name, new in replacements.items():
            if not isinstance(new, Composite):  # a Formula
                raise FormulaDefinitionError(
                    f"{where}: with_parts({name}=...) needs a Formula, got {type(new).__name__}"
                )
        used = {f.name for f, _ in self.chain()}
        unknown = [n for n in replacements if n not in used]
        if unknown:
            raise UnknownNameError(
                f"{where}: {unknown[0]!r} is not a part of it{did_you_mean(unknown[0], used)}",
                unknown[0],
            )
        parts: dict[sympy.Symbol, Part] = {}
        for sym, part in self.parts.items():
            target = replacements.get(part.name)
            if target is not None:
                ok, _ = same_unit(target.unit, part.formula.unit)
                if not ok:
                    raise UnitError(
                        f"{where}: part {part.name!r} is in {part.formula.unit:~P} "
                        f"({describe_dimension(part.formula.unit)}) but its replacement "
                        f"{target.name!r} is in {target.unit:~P} "
                        f"({describe_dimension(target.unit)})",
                        target.unit,
                        part.formula.unit,
                    )
                missing = [k.name for k, _ in part.subs if k not in set(target.inputs)]
                if missing:
                    raise FormulaDefinitionError(
                        f"{where}: part {part.name!r} is used at {missing[0]}=..., which "
                        f"{target.name!r} does not take"
                    )
                inner = target
            else:
                deeper = {
                    k: v
                    for k, v in replacements.items()
                    if k in {f.name for f, _ in part.formula.chain()}
                }
                inner = part.formula.with_parts(**deeper) if deeper else part.formula
            parts[sym] = Part(inner, part.subs, sym)
        variant = type(self)(
            self.name,
            self.expr,
            self.unit,
            parts=parts,
            registry=self.registry,
            doc=self.raw_doc,
            source=self.source,
            module=self.module,
        )
        variant.variant_of = self
        variant.replaces, variant.feature = self.replaces, self.feature
        variant.replacements = {**self.replacements, **{k: v.name for k, v in replacements.items()}}
        return variant

    def overridable_parts(self) -> dict[str, Formula]:
        """Parts whose value may be given instead of their inputs (recursively, through
        parts used as is).

        Returns
        -------
        dict of str to Formula
            Part name -> the formula that computes it.
        """
        if self._cache.overridable is not None:
            return dict(self._cache.overridable)
        found: dict[str, Formula] = {}
        for part in self.parts.values():
            if part.overridable:
                found[part.name] = part.formula
                found.update(part.formula.overridable_parts())
        self._cache.overridable = found
        return dict(found)

    def leaf_names(self) -> frozenset[str]:
        """Names of the inputs the expansion can hold, read from the parts without expanding
        them: :attr:`~llmphys.Formula.inputs` unless terms cancel.  Cheap enough for the
        definition check of every composite at import (an expansion is not).

        Returns
        -------
        frozenset of str
            Input names.
        """
        found = self._cache.leaves
        if found is None:
            found = frozenset().union(*(self._leaves_of(s) for s in self.expr.free_symbols))
            self._cache.leaves = found
        return found

    def _leaves_of(self, sym: sympy.Basic) -> frozenset[str]:
        part = self.parts.get(sym)  # type: ignore[call-overload]
        if part is None:
            plain = isinstance(sym, sympy.Symbol) and not isinstance(sym, UnitSymbol)
            return frozenset({sym.name}) if plain else frozenset()  # type: ignore[attr-defined]
        inner = part.formula.leaf_names()
        if not part.subs:
            return inner
        given = [self._leaves_of(s) for _, value in part.subs for s in value.free_symbols]
        return (inner - {key.name for key, _ in part.subs}).union(*given)

    def chain(self) -> list[tuple[Formula, tuple[tuple[sympy.Symbol, sympy.Expr], ...]]]:
        """This formula then each part, depth first, each once: the order of a worked example.

        Returns
        -------
        list of tuple
            ``(formula, substitutions)``: each formula with the substitutions it is used at
            (``()`` when used as is).
        """
        seen: set[tuple[str, tuple]] = set()
        order: list[tuple[Formula, tuple[tuple[sympy.Symbol, sympy.Expr], ...]]] = []

        def visit(f: Formula, subs: tuple) -> None:
            key = (f.name, subs)
            if key in seen:
                return
            seen.add(key)
            order.append((f, subs))
            for part in f.parts.values():
                visit(part.formula, part.subs)

        visit(self, ())
        return order
