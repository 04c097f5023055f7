"""Formula, Registry and the ``@formula`` decorator: a formula is defined once, here is how.

A formula is a SymPy expression over glossary symbols with a declared pint unit.  Physics
modules write it as a decorated function whose body is the math::

    @formula(unit="byte", latex=r"M_{\\mathrm{KV}}", text="M_KV", source="seed: KV Cache")
    def kv_cache_bytes(kv_bytes_per_token, seq_len, batch):
        '''KV cache of a batch: bytes per token times cached tokens times sequences.'''
        return kv_bytes_per_token * seq_len * batch

Each parameter is looked up by name: a registered formula's name makes the new formula a
*composite* of it (``kv_bytes_per_token`` above), any other name must be a glossary symbol.  A
composite may use a part at substituted inputs (``dense_flops.at(tokens=1)``).  The body runs
once, on symbols; its units are checked against the declared unit before the formula is
registered, and a mismatch refuses the definition naming the formula and the offending term.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pint
import sympy

from llmphys.engine.composition import Composite
from llmphys.engine.glossary import Entry
from llmphys.engine.parts import Part, PartRef
from llmphys.engine.registry import Registry, registry
from llmphys.engine.shown import ShownSymbols
from llmphys.errors import (
    UnknownNameError,
    did_you_mean,
)
from llmphys.units import UnitSymbol, as_numbers

__all__ = ["Formula", "Part", "PartRef", "Registry", "formula", "registry"]


@dataclass
class _Cache:
    """What a formula computes once and keeps: expansions, needed symbols and compiled
    functions per set of parts given, and its overridable parts."""

    expansions: dict[frozenset[str], sympy.Expr] = field(default_factory=dict)
    needed: dict[frozenset[str], tuple[sympy.Symbol, ...]] = field(default_factory=dict)
    numeric: dict[frozenset[str], tuple[Callable[..., Any], tuple[str, ...]]] = field(
        default_factory=dict
    )
    overridable: dict[str, Formula] | None = None
    leaves: frozenset[str] | None = None


class _GeneratedDoc:
    """``Formula.__doc__``: the class's own text on the class, the generated page on a formula
    (meaning, equation, parameters from the glossary, rationale), built only when asked."""

    def __get__(self, obj: Formula | None, cls: type) -> str:
        if obj is None:
            return _FORMULA_CLASS_DOC
        from llmphys.engine.docs import formula_doc

        return formula_doc(obj)


_FORMULA_CLASS_DOC = """One formula: ``expr`` (over inputs and parts) with a declared ``unit``.

Use the ``@formula`` decorator (or :func:`llmphys.define`) rather than this constructor.
"""


class Formula(Composite, ShownSymbols):
    """One formula: ``expr`` (over inputs and part symbols) with a declared ``unit``.

    Use the ``@formula`` decorator (or :func:`llmphys.define`) rather than this constructor.
    """

    def __init__(
        self,
        name: str,
        expr: sympy.Expr,
        unit: pint.Unit,
        *,
        parts: Mapping[sympy.Symbol, Part],
        registry: Registry,
        doc: str = "",
        source: str = "",
        module: str = "",
    ) -> None:
        self.name = name
        self.module = module  # where it was defined (its doctest examples run there)
        self.expr = expr
        self.unit = unit
        self.parts = dict(parts)
        self.registry = registry
        self.source = source
        self._doc = doc  # cleaned when read (raw_doc): importing the registry stays quick
        self.replaces: str | None = None  # the formula this variant stands in for ...
        self.feature: str | None = None  # ... in a model (or layout) with this feature
        self.variant_of: Formula | None = None  # set by with_parts()
        self.replacements: dict[str, str] = {}  # part name -> formula used instead
        self._cache = _Cache()

    # ----------------------------------------------------------------- identity and display
    @property
    def raw_doc(self) -> str:
        """The defining function's docstring, dedented."""
        return inspect.cleandoc(self._doc) if self._doc else ""

    @property
    def entry(self) -> Entry:
        """The glossary entry of the result (display symbol, unit, meaning)."""
        return self.registry.glossary[self.name]

    @property
    def symbol(self) -> sympy.Symbol:
        return self.entry.symbol

    @property
    def meaning(self) -> str:
        return self.entry.meaning

    __doc__ = _GeneratedDoc()  # type: ignore[assignment]

    def _repr_markdown_(self) -> str:
        """In a notebook: meaning, definition and expansion, and the inputs with units."""
        from llmphys.engine.docs import formula_markdown

        return formula_markdown(self)

    def __repr__(self) -> str:
        variant = "".join(f", {k} -> {v}" for k, v in self.replacements.items())
        return f"<Formula {self.name}{variant} [{self.unit:~P}]: {self.meaning}>"

    # ----------------------------------------------------------------------- structure
    def expand(self, keep: frozenset[str] = frozenset()) -> sympy.Expr:
        """The expression over leaf inputs, keeping some overridable parts as symbols.

        Parameters
        ----------
        keep
            Names of overridable parts to keep as symbols (their values given directly).

        Returns
        -------
        sympy.Expr
            The expression, every other part substituted by its own expression.
        """
        cached = self._cache.expansions.get(keep)
        if cached is not None:
            return cached
        resolved: dict[sympy.Symbol, sympy.Expr] = {}

        def resolve(sym: sympy.Symbol) -> sympy.Expr:
            if sym in resolved:
                return resolved[sym]
            part = self.parts[sym]
            if part.overridable and part.name in keep:
                resolved[sym] = sym
                return sym
            inner = part.formula.expand(keep if part.overridable else frozenset())
            if part.subs:
                inner = inner.xreplace({k: resolve_expr(v) for k, v in part.subs})
            resolved[sym] = inner
            return inner

        def resolve_expr(e: sympy.Expr) -> sympy.Expr:
            return e.xreplace({s: resolve(s) for s in e.free_symbols if s in self.parts})

        result = resolve_expr(self.expr)
        self._cache.expansions[keep] = result
        return result

    @property
    def expanded(self) -> sympy.Expr:
        """The fully expanded expression, over leaf inputs only."""
        return self.expand()

    @property
    def inputs(self) -> tuple[sympy.Symbol, ...]:
        """The leaf input symbols, in glossary order."""
        return self.needed()

    def needs(self, given: Iterable[str] = ()) -> set[str]:
        """Names of the inputs still needed when some parts are given directly.

        Parameters
        ----------
        given
            Names of overridable parts whose values are given (``effective_flops``).

        Returns
        -------
        set of str
            The input names the formula still needs.

        Raises
        ------
        UnknownNameError
            A name in ``given`` is not a part that can be given.
        """
        keep = frozenset(given)
        overridable = self.overridable_parts()
        unknown = [n for n in keep if n not in overridable]
        if unknown:
            raise UnknownNameError(
                f"formula '{self.name}': {unknown[0]!r} is not a part that can be given"
                f"{did_you_mean(unknown[0], overridable)}",
                unknown[0],
            )
        return {s.name for s in self.needed(keep)}

    def takes(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of ``values`` this formula takes (see
        :func:`llmphys.engine.binding.accepted`).

        Parameters
        ----------
        values
            Candidate values by name (a preset's, a scenario's).

        Returns
        -------
        dict
            The entries that are inputs or overridable parts of this formula.
        """
        from llmphys.engine.binding import accepted

        return accepted(self, values)

    def needed(self, keep: frozenset[str] = frozenset()) -> tuple[sympy.Symbol, ...]:
        """The symbols the expression needs when the parts in ``keep`` are given (cached:
        every call and every slider move asks).

        Parameters
        ----------
        keep
            Names of overridable parts given by value.

        Returns
        -------
        tuple of sympy.Symbol
            The input symbols, in glossary order.
        """
        cached = self._cache.needed.get(keep)
        if cached is None:
            cached = self._ordered(self.expand(keep).free_symbols)
            self._cache.needed[keep] = cached
        return cached

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.inputs)

    def _ordered(self, symbols: set[sympy.Basic]) -> tuple[sympy.Symbol, ...]:
        plain = [
            s for s in symbols if isinstance(s, sympy.Symbol) and not isinstance(s, UnitSymbol)
        ]
        return tuple(sorted(plain, key=lambda s: (self.registry.glossary.order(s.name), s.name)))

    def as_numbers(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` (this formula's, or a part of its expansion) as the numbers it computes
        on: unit constants count as 1, rounding of a scaled ratio at its written scale
        (:func:`llmphys.units.as_numbers`).

        Parameters
        ----------
        expr
            An expression of this formula's chain.

        Returns
        -------
        sympy.Expr
            The expression over plain numbers in glossary units.
        """
        return as_numbers(expr, lambda s: self.symbol_entry(s)[2])

    # ----------------------------------------------------------------------- evaluation
    def bind(self, values: Mapping[str, Any], *, partial: bool = False) -> Any:
        """Values checked and converted for this formula (the one input-binding path).

        Parameters
        ----------
        values
            Input (or overridable part) name -> value: a quantity, a plain number in the
            symbol's glossary unit, or a precision name.
        partial
            Allow missing inputs (for derivations and solving).

        Returns
        -------
        llmphys.engine.binding.Binding
            The converted values and which parts are given.

        Raises
        ------
        InputError, UnknownNameError, UnitError
            A missing or unknown input, or a value of the wrong dimension or out of range.
        """
        from llmphys.engine.binding import bind

        return bind(self, values, partial=partial)

    def numeric(
        self, keep: frozenset[str] = frozenset()
    ) -> tuple[Callable[..., Any], tuple[str, ...]]:
        """A numpy function of the inputs (in glossary units, float64) and its argument names.

        Compiled once per set of given parts, then cached: no SymPy work per evaluation.

        Parameters
        ----------
        keep
            Names of overridable parts given by value (arguments of their own).

        Returns
        -------
        tuple
            The function, and its positional arguments' names (a tuple of str).
        """
        cached = self._cache.numeric.get(keep)
        if cached is not None:
            return cached
        from llmphys.engine.compiled import compile_expression

        expr = self.as_numbers(self.expand(keep))
        args = self._ordered(expr.free_symbols)
        compiled = (compile_expression(args, expr), tuple(a.name for a in args))
        self._cache.numeric[keep] = compiled
        return compiled

    def __call__(self, **values: Any) -> pint.Quantity:
        """The value of the formula.

        Parameters
        ----------
        **values
            Every input by name: quantities, plain numbers in each symbol's glossary unit, or
            precision names (``"bf16"``); an overridable part may be given instead of its
            inputs.

        Returns
        -------
        Quantity
            The result, in the formula's unit.

        Raises
        ------
        InputError, UnknownNameError, UnitError
            A missing or unknown input (the closest names are suggested), or a value of the
            wrong dimension or out of range.
        """
        return self.bind(values).quantity()

    # ------------------------------------------------- front doors to the other machinery
    def lambdify(self, *, units: bool = False) -> Callable[..., Any]:
        """The cached numpy function over :attr:`inputs` (see :mod:`llmphys.engine.compiled`).

        Plain float64 numbers in glossary units in and out; ``units=True`` gives the
        unit-aware version (quantities in, validated like a call, a quantity out).

        Parameters
        ----------
        units
            Return the unit-aware function.

        Returns
        -------
        NumpyFunction or QuantityFunction
            The same object on every call (compiled once).
        """
        from llmphys.engine.compiled import lambdified

        return lambdified(self, units=units)

    def derive(
        self, explain: bool = False, sources: Mapping[str, str] | None = None, **values: Any
    ) -> Any:
        """The worked derivation for some values (see :mod:`llmphys.engine.derive`).

        Parameters
        ----------
        explain
            Add a sentence per step saying what it computes.
        sources
            Input name -> where its value came from (shown beside it).
        **values
            The inputs, as for a call; inputs left out stay symbols (a partial derivation).

        Returns
        -------
        llmphys.engine.derive.Derivation
            The steps (LaTeX in a notebook, text in a terminal).
        """
        from llmphys.engine.derive import derive

        return derive(self, explain=explain, sources=sources, **values)

    def sweep(self, **values: Any) -> Any:
        """Evaluate over a grid of values (see :func:`llmphys.engine.sweeps.sweep`).

        Parameters
        ----------
        **values
            The inputs: each 1-D list or array is an axis, scalars are fixed.

        Returns
        -------
        xarray.DataArray
            The results, one dimension per swept input, with units in ``attrs``.
        """
        from llmphys.engine.sweeps import sweep

        return sweep(self, **values)

    def solve(self, unknown: str, target: Any = None, **given: Any) -> Any:
        """Solve for an input (see :func:`llmphys.solve`).

        Parameters
        ----------
        unknown
            The input to solve for.
        target
            The value the formula must meet (``None``: left symbolic).
        **given
            The other inputs, and ``bound=`` as for :func:`llmphys.solve`.

        Returns
        -------
        llmphys.Solution
            The answer.
        """
        from llmphys.engine.solve import solve

        return solve(self, unknown, target=target, **given)


# the definition machinery builds Formulas: imported once Formula exists (``formula``, the
# decorator, is this module's public name; ``build`` and ``check_definition`` are reached here)
from llmphys.engine.definition import build, check_definition, formula  # noqa: E402, F401
