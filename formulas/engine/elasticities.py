"""Sensitivity: which input matters, as elasticities (the relative change of a formula per
relative change of each input)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from llmphys.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula


def elasticities(formula: Formula | str, **values: Any) -> dict[str, float]:
    """d ln f / d ln x for every input x at a point: a 1 % change of x changes f by this many
    percent.  Sorted by magnitude, largest first ("which input matters most here").

    Parameters
    ----------
    formula
        A formula or a registry formula's name.
    **values
        Every input, as for a call (single values, not arrays).

    Returns
    -------
    dict of str to float
        Input name -> elasticity, largest magnitude first.

    Raises
    ------
    InputError
        An input is missing or an array.

    Examples
    --------
    >>> import llmphys as F
    >>> e = F.elasticities("kv_cache_bytes", layers=80, n_kv_heads=8, head_dim=128,
    ...                    kv_bytes=2, seq_len=10000, batch=1)
    >>> e["seq_len"]
    1.0
    """
    from llmphys.engine.formula import registry as builtin

    f = builtin[formula] if isinstance(formula, str) else formula
    binding = f.bind(values)
    keep, converted = binding.keep, dict(binding.values)
    expr = f.as_numbers(f.expand(keep))
    point = {}
    gloss = f.registry.glossary
    for name, value in converted.items():
        if isinstance(value, np.ndarray):
            raise InputError(f"elasticities of {f.name}: argument '{name}' is an array")
        sym = gloss.symbol(name) if gloss[name].kind == "input" else f.registry[name].symbol
        point[sym] = sympy.Float(value, 30)
    f_value = expr.xreplace(point).evalf(30)
    out: dict[str, float] = {}
    for sym in f._ordered(expr.free_symbols):
        derivative = sympy.diff(expr, sym).xreplace(point).evalf(30)
        out[sym.name] = float(derivative * point[sym] / f_value)
    return dict(sorted(out.items(), key=lambda kv: -abs(kv[1])))
