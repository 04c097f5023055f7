"""Compile formulas to numpy once, and evaluate them fast (scalars, arrays, grids).

``sympy.lambdify`` runs once per formula (per set of directly given parts) and is cached on
the formula; sliders, sweeps and plots call the compiled function and never touch SymPy.
Inputs are cast to float64 first, so integer arrays at extreme values (10^7-token contexts,
10^12 parameters) cannot overflow int64 in ``S**2`` terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from llmphys.units import UnitSymbol

__all__ = ["compile_expression", "lambdified"]


def compile_expression(args: Sequence[sympy.Symbol], expr: sympy.Expr) -> Callable[..., Any]:
    """A numpy function of ``args`` (float64 in, float64 out) computing ``expr``.

    Unit constants count as 1: the unit check guarantees that every scale matches, so the
    numbers are already in the declared unit.
    """
    units = {s: sympy.Integer(1) for s in expr.free_symbols if isinstance(s, UnitSymbol)}
    body = expr.xreplace(units) if units else expr
    fn = sympy.lambdify(list(args), body, modules="numpy", printer=NumPyPrinter, cse=True)

    def evaluate(*values: Any) -> Any:
        arrays = [np.asarray(v, dtype=np.float64) for v in values]
        out = fn(*arrays)
        if arrays:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
            out = np.broadcast_to(np.asarray(out, dtype=np.float64), shape)
            return float(out) if out.ndim == 0 else out
        return float(out)

    evaluate.__name__ = "compiled"
    evaluate.raw = fn  # the bare lambdified function, for benchmarks
    return evaluate


def lambdified(formula: Any) -> Callable[..., Any]:
    """``formula``'s cached numpy function over ``formula.inputs`` (positional or keyword)."""
    fn, names = formula.numeric()

    def call(*args: Any, **kwargs: Any) -> Any:
        if args and kwargs:
            raise TypeError(f"{formula.name}: give the inputs by position or by name, not both")
        if kwargs:
            missing = [n for n in names if n not in kwargs]
            extra = [k for k in kwargs if k not in names]
            if missing or extra:
                raise TypeError(
                    f"{formula.name}: lambdified function takes {', '.join(names)}"
                    + (f"; missing {', '.join(missing)}" if missing else "")
                    + (f"; unknown {', '.join(extra)}" if extra else "")
                )
            args = tuple(kwargs[n] for n in names)
        if len(args) != len(names):
            raise TypeError(
                f"{formula.name}: lambdified function takes {len(names)} inputs "
                f"({', '.join(names)}), got {len(args)}"
            )
        return fn(*args)

    call.__name__ = f"{formula.name}_numpy"
    call.inputs = names
    return call
