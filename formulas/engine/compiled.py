"""Compile formulas to numpy once, and evaluate them fast: scalars, arrays, labelled grids.

``sympy.lambdify`` runs once per formula (and per set of directly given parts), cached on the
formula; sliders, sweeps and plots call the compiled function and never touch SymPy.  Three
doors lead to it:

``formula.lambdify()`` (:class:`NumpyFunction`)
    the raw path: float64 numbers, scalars or arrays in any mix that broadcasts, each in its
    symbol's glossary unit, by position (in ``fn.inputs`` order) or by name; returns float64
    in ``formula.unit`` (a ``float`` for scalars).  Nothing is validated beyond the signature:
    this is the path for code that already holds clean numbers.
``formula.lambdify(units=True)`` (:class:`QuantityFunction`)
    the unit-aware path: the same arguments as pint quantities (scalars or arrays), plain
    numbers in glossary units or named precisions (``"bf16"``); validated by the same checks
    as ``formula(...)`` (with the unit-conversion factors cached); returns a quantity in
    ``formula.unit``.
``formula.sweep(**values)`` (:func:`llmphys.engine.sweeps.sweep`)
    a grid of the same compiled function, labelled (:mod:`llmphys.engine.sweeps`).

Every input is cast to float64 before any arithmetic, so integer arrays at extreme values
(10^7-token contexts, 10^12 parameters, batch 10^4) cannot overflow int64 in ``S**2`` terms;
results equal the exact SymPy value to a relative 1e-12 (``tests/test_numeric.py``).
"""

from __future__ import annotations

import functools
import inspect
import numbers
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pint
import sympy

from llmphys.engine.binding import finite
from llmphys.engine.coercion import coerce
from llmphys.errors import did_you_mean
from llmphys.units import Q_, as_numbers, ureg
from llmphys.units.expression import rebuilt

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula
    from llmphys.engine.glossary import Entry

__all__ = [
    "NumpyFunction",
    "QuantityFunction",
    "compile_expression",
    "lambdified",
]

# python and numpy scalars the raw path evaluates without building arrays (bool is left to
# the array path: it is an int, and the raw path does not validate)
_SCALARS = (float, int, np.float64, np.float32, np.int64, np.int32)


def _quiet() -> Any:
    """Overflow or 0/0 gives inf or NaN without a warning: the caller refuses such results
    with a message naming the inputs (:func:`llmphys.engine.binding.finite`)."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


# Min and Max as plain functions for the compiled code.  SymPy rebuilds a Max it meets again
# (in common-subexpression elimination) by comparing its arguments pairwise, factoring each
# difference: most of the time a layout's formulas took to compile, for nothing, since each
# Max was simplified when it was built.  These never simplify; they print as calls of the
# names below, which compute what SymPy's own printing of Min/Max computes.
_MAX = sympy.Function("llmphys_max")
_MIN = sympy.Function("llmphys_min")
_NUMPY_MIN_MAX = {
    "llmphys_max": lambda *a: functools.reduce(np.maximum, a),
    "llmphys_min": lambda *a: functools.reduce(np.minimum, a),
}
_MATH_MIN_MAX = {"llmphys_max": max, "llmphys_min": min}


def _plain_min_max(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every Min and Max as :data:`_MIN`/:data:`_MAX` (rebuilt, never
    re-simplified)."""
    if not expr.has(sympy.Min, sympy.Max):
        return expr

    def node(e: sympy.Basic, args: tuple[sympy.Basic, ...]) -> sympy.Basic:
        if isinstance(e, sympy.Max):
            return _MAX(*args)
        if isinstance(e, sympy.Min):
            return _MIN(*args)
        return e if args == e.args else e.func(*args)

    return rebuilt(expr, {}, node)


@functools.cache
def _printer_class(base: type) -> type:
    """``base`` with products printed in SymPy's order (see :func:`_printer`), made once."""

    class Printer(base):  # type: ignore[misc, valid-type]
        def _print_Mul(self, expr: sympy.Expr) -> str:
            factors = expr.as_ordered_factors()
            if tuple(factors) != expr.args:
                expr = sympy.Mul(*factors, evaluate=False)
            return super()._print_Mul(expr)

    return Printer


def _printer(base: type) -> Any:
    """``base`` (a SymPy code printer) printing sums in the order the expression holds their
    terms: sorting them for reading took most of lambdify's time, for source nobody reads.
    Products keep SymPy's order, which puts numbers and (alphabetically) often the scalar
    inputs first: ``6*hidden**2*tokens`` multiplies an array of tokens once, where the order
    held, ``6*tokens*hidden**2``, would do it twice."""

    settings = {"fully_qualified_modules": False, "inline": True, "order": "none",
                "allow_unknown_functions": True, "user_functions": {}}  # fmt: skip
    return _printer_class(base)(settings)


class _Printed:
    """``body`` lambdified for Python's ``math`` and for numpy, numpy's printed when first
    used (a slider's scalars never need it), with the common subexpressions found once for
    both, sums printed unsorted (:func:`_printer`) and no docstring."""

    def __init__(self, args: Sequence[sympy.Symbol], body: sympy.Expr) -> None:
        self.args, self.body = list(args), body

    @functools.cached_property
    def shared(self) -> Any:
        return sympy.cse(self.body, list=False)

    @functools.cached_property
    def numpy(self) -> Callable[..., Any]:
        from sympy.printing.numpy import NumPyPrinter

        return self._lambdified(NumPyPrinter, [_NUMPY_MIN_MAX, "numpy"])

    @functools.cached_property
    def math(self) -> Callable[..., Any]:
        from sympy.printing.pycode import PythonCodePrinter

        return self._lambdified(PythonCodePrinter, [_MATH_MIN_MAX, "math"])

    def _lambdified(self, printer: type, modules: list[Any]) -> Callable[..., Any]:
        shared = self.shared
        return sympy.lambdify(self.args, self.body, modules=modules, printer=_printer(printer),
                              cse=lambda _: shared, docstring_limit=0)  # fmt: skip


def compile_expression(args: Sequence[sympy.Symbol], expr: sympy.Expr) -> Callable[..., Any]:
    """A numpy function of ``args`` (float64 in, float64 out) computing ``expr``.

    Unit constants count as 1: the unit check guarantees that every scale matches, so the
    numbers are already in the declared unit.  Common subexpressions are computed once
    (``cse=True``).  Scalars give a ``float``; arrays broadcast, and the result always has the
    broadcast shape of the arguments (even where the expression ignores one of them).
    """
    body = _plain_min_max(as_numbers(expr))
    # whole literals beyond int64 would reach numpy as Python ints (object arrays, which
    # ufuncs such as log refuse): float64 is what the numbers compute in anyway
    big = {i: sympy.Float(i) for i in body.atoms(sympy.Integer) if abs(i) > 2**53}
    body = body.xreplace(big) if big else body
    printed = _Printed(args, body)
    _ = printed.math  # printed now: an expression the printers refuse fails here, not later
    f64 = np.float64

    def on_floats(values: tuple[Any, ...]) -> float:
        """Python floats through the same expression printed for ``math``: the same IEEE
        double arithmetic, without numpy's per-operation overhead (a slider's one point).
        Anything Python's floats refuse (a division by zero, an overflow, a complex power of
        a negative base) takes numpy's path, which gives its inf or nan."""
        try:
            return float(printed.math(*values))
        except (ArithmeticError, ValueError, TypeError):
            with _quiet():
                return float(printed.numpy(*[f64(v) for v in values]))

    def evaluate(*values: Any) -> Any:
        if all(type(v) is float for v in values):
            return on_floats(values)
        fn = printed.numpy
        if all(type(v) in _SCALARS for v in values):
            # float64 scalars: same IEEE arithmetic as arrays, without the array machinery
            with _quiet():
                return float(fn(*[f64(v) for v in values]))
        arrays = [np.asarray(v, dtype=np.float64) for v in values]
        with _quiet():
            out = np.asarray(fn(*arrays), dtype=np.float64)
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        if out.shape != shape:
            out = np.array(np.broadcast_to(out, shape))
        elif any(out is a for a in arrays):  # a formula that is one of its inputs
            out = out.copy()
        return float(out) if out.ndim == 0 else out

    evaluate.__name__ = "compiled"
    evaluate.printed = printed  # type: ignore[attr-defined]  # its lambdified functions
    return evaluate


# --------------------------------------------------------------------------- the functions
_MISSING = object()


class _Signature:
    """Binds positional and keyword arguments to a formula's inputs, as Python would."""

    def __init__(self, label: str, names: tuple[str, ...]) -> None:
        self.label = label
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.text = ", ".join(names)

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[Any]:
        names = self.names
        if not kwargs and len(args) == len(names):
            return list(args)
        if len(args) > len(names):
            raise TypeError(
                f"{self.label} takes {len(names)} input{'s' if len(names) != 1 else ''} "
                f"({self.text}), got {len(args)}"
            )
        values: list[Any] = [*args, *([_MISSING] * (len(names) - len(args)))]
        for name, value in kwargs.items():
            i = self.index.get(name)
            if i is None:
                raise TypeError(
                    f"{self.label}: unknown input {name!r}{did_you_mean(name, names)} "
                    f"(inputs: {self.text})"
                )
            if values[i] is not _MISSING:
                raise TypeError(f"{self.label}: got two values for {name!r} (by position and name)")
            values[i] = value
        missing = [n for n, v in zip(names, values, strict=True) if v is _MISSING]
        if missing:
            listed = ", ".join(repr(n) for n in missing)
            raise TypeError(
                f"{self.label}: missing input{'s' if len(missing) > 1 else ''} {listed} "
                f"(inputs: {self.text})"
            )
        return values

    def signature(self) -> inspect.Signature:
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Signature([inspect.Parameter(n, kind) for n in self.names])


class NumpyFunction:
    """``formula.lambdify()``: float64 numbers in glossary units in, float64 out.

    Call it with the inputs by position, in :attr:`inputs` order, or by name; scalars and
    arrays mix and broadcast.  The result is in :attr:`unit` (a ``float`` for scalar inputs).
    Values are *not* validated (no domain, unit or name checks on values): use the unit-aware
    function, ``formula.lambdify(units=True)``, for input that a person typed.

    >>> import llmphys as F
    >>> fn = F.kv_cache_bytes.lambdify()
    >>> fn.inputs
    ('layers', 'n_kv_heads', 'head_dim', 'seq_len', 'batch', 'kv_bytes')
    >>> fn(80, 8, 128, 32768, 1, 2) / 2**30                 # GiB
    10.0
    >>> fn(80, 8, 128, seq_len=[1024, 2048], batch=1, kv_bytes=2)
    array([3.3554432e+08, 6.7108864e+08])
    """

    def __init__(self, formula: Formula) -> None:
        self.formula = formula
        self._compiled, names = formula.numeric()
        self.inputs: tuple[str, ...] = names
        self.unit: pint.Unit = formula.unit
        self._signature = _Signature(f"{formula.name}.lambdify()", names)
        self.__signature__ = self._signature.signature()
        self.__name__ = formula.name
        self.__qualname__ = f"{formula.name}.lambdify()"

    @property
    def raw(self) -> Callable[..., Any]:
        """The bare function SymPy generated (positional float64 arguments only)."""
        return self._compiled.printed.numpy  # type: ignore[attr-defined]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled(*self._signature.bind(args, kwargs))

    def __repr__(self) -> str:
        return f"<numpy function {self.formula.name}({self._signature.text}) -> {self.unit:~P}>"


class QuantityFunction:
    """``formula.lambdify(units=True)``: quantities in, a quantity in :attr:`unit` out.

    Takes the same arguments as :class:`NumpyFunction` (by position in :attr:`inputs` order, or
    by name); each may be a pint quantity (scalar or array) of a convertible unit, a plain
    number or array in the symbol's glossary unit, or a named precision.  Each value goes
    through the one validation every call uses (:func:`llmphys.engine.coercion.coerce`: unit,
    domain, whole numbers, names), so the errors are word for word those of
    ``formula(**values)``; the names were already checked when the arguments were bound.
    Quantities are converted with factors cached per (unit, symbol), so a slider pays for
    pint's unit algebra once, not per move.

    >>> import llmphys as F
    >>> from llmphys.units import Q_
    >>> fq = F.kv_cache_bytes.lambdify(units=True)
    >>> print(fq(80, 8, 128, Q_(32, "kibitoken"), 1, "bf16").to("GiB"))
    10.0 GiB
    """

    def __init__(self, formula: Formula) -> None:
        self.formula = formula
        self._compiled, names = formula.numeric()
        self.inputs: tuple[str, ...] = names
        self.unit: pint.Unit = formula.unit
        self._where = f"formula '{formula.name}'"
        self._entries = [formula.registry.glossary[n] for n in names]
        self._signature = _Signature(f"{formula.name}.lambdify(units=True)", names)
        self.__signature__ = self._signature.signature()
        self.__name__ = formula.name
        self.__qualname__ = f"{formula.name}.lambdify(units=True)"

    def __call__(self, *args: Any, **kwargs: Any) -> pint.Quantity:
        values = self._signature.bind(args, kwargs)
        where = self._where
        converted = [
            coerce(entry, _in_glossary_unit(entry, value), where)
            for entry, value in zip(self._entries, values, strict=True)
        ]
        result = self._compiled(*converted)
        # the same refusal as a call: no inf, NaN or negative size comes back as a number
        finite(self.formula, result, dict(zip(self.inputs, converted, strict=True)))
        return Q_(result, self.unit)

    def __repr__(self) -> str:
        return (
            f"<unit-aware function {self.formula.name}({self._signature.text}) -> {self.unit:~P}>"
        )


# (unit of a given quantity, glossary unit) -> conversion factor, or None when pint's own
# conversion must run (other dimension: its error is the one to show; non-multiplicative unit)
_FACTORS: dict[tuple[pint.Unit, str], float | None] = {}


def _factor(units: pint.Unit, entry: Entry) -> float | None:
    key = (units, entry.unit)
    factor = _FACTORS.get(key, _MISSING)
    if factor is _MISSING:
        one = ureg.Quantity(1.0, units)
        try:
            factor = float(one.to(entry.pint_unit).magnitude) if one._is_multiplicative else None
        except pint.DimensionalityError:
            factor = None
        _FACTORS[key] = factor
    return factor  # type: ignore[return-value]


def _in_glossary_unit(entry: Entry, value: Any) -> Any:
    """A quantity of this registry as its magnitude in the entry's unit; anything else as is.

    Only the unit conversion happens here; every check is left to the formula's own
    validation (:func:`llmphys.engine.coercion.coerce`), which sees the converted number exactly
    as it would after pint's conversion.
    """
    if not isinstance(value, ureg.Quantity):
        return value
    factor = _factor(value.units, entry)
    if factor is None:
        return value  # let coerce raise its UnitError, or convert the general way
    magnitude = value.magnitude
    if isinstance(magnitude, np.ndarray):
        return magnitude * factor  # a new array: the caller's is never touched
    if isinstance(magnitude, numbers.Real) and not isinstance(magnitude, bool):
        return magnitude * factor
    return value


# one NumpyFunction and one QuantityFunction per formula, built on first use
_FUNCTIONS: weakref.WeakKeyDictionary[Formula, dict[bool, Any]] = weakref.WeakKeyDictionary()


def lambdified(formula: Formula, units: bool = False) -> NumpyFunction | QuantityFunction:
    """``formula``'s cached function over ``formula.inputs``: the same object on every call.

    ``units=False`` gives the raw float64 :class:`NumpyFunction`, ``units=True`` the
    unit-aware :class:`QuantityFunction`.

    Parameters
    ----------
    formula
        A formula.
    units
        Return the unit-aware function.

    Returns
    -------
    NumpyFunction or QuantityFunction
        The cached function.
    """
    cached = _FUNCTIONS.setdefault(formula, {})
    key = bool(units)
    if key not in cached:
        cached[key] = QuantityFunction(formula) if key else NumpyFunction(formula)
    return cached[key]
