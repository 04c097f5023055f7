"""Turn what a user gives for a symbol into float64 numbers in the symbol's own unit.

Accepted: a pint quantity of the right dimension (scalar or array), a plain number or array
(read in the glossary unit), or, for symbols with named choices, a name (``"bf16"``).
Refused, each with a message naming the formula and the argument: a wrong dimension, NaN or
infinity, a value outside the domain (zero or negative sizes, fractions outside (0, 1]),
a fractional count, booleans and other types.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pint

from llmphys.engine.glossary import DOMAINS, WIDEST_ELEMENT, Entry
from llmphys.errors import InputError, UnitError, did_you_mean
from llmphys.units import Q_, describe_dimension

__all__ = ["coerce", "format_number"]

# a count converted from another unit may carry float noise (32 * 1000.0000000000001)
_INTEGER_RTOL = 1e-9

#: where each domain's values are out of range: elementwise on arrays, plainly on a float
_OUTSIDE = {
    "positive": lambda x: x <= 0,
    "nonnegative": lambda x: x < 0,
    "fraction": lambda x: (x <= 0) | (x > 1),
    "unit_interval": lambda x: (x < 0) | (x > 1),
}


def _not_whole(x: Any, rounded: Any) -> Any:
    """Where a count is not a whole number (beyond conversion noise), arrays or floats."""
    return abs(x - rounded) > _INTEGER_RTOL * np.maximum(1.0, abs(x))


def format_number(x: float) -> str:
    """A number as given, in a message: ``0``, ``2.5``, ``28629.016``, ``1e+20``, ``nan``
    (enough digits that a value refused for not being whole never prints as whole)."""
    return f"{x:.12g}"


def _first_bad(values: np.ndarray, bad: np.ndarray) -> float:
    return float(values[bad].flat[0]) if values.ndim else float(values)


def coerce(entry: Entry, value: object, where: str) -> float | np.ndarray:
    """``value`` as float64 in ``entry``'s unit, or a clear error.  ``where`` names the formula."""
    name = entry.name
    if isinstance(value, str):
        return _named_choice(entry, value, where)
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{where}: argument '{name}' got a boolean ({value}); give a number")
    if isinstance(value, pint.Quantity):
        if getattr(value, "_REGISTRY", None) is not entry.pint_unit._REGISTRY:
            raise InputError(
                f"{where}: argument '{name}' is a quantity of another pint unit registry; "
                "build it with llmphys's own (from llmphys.units import Q_; Q_(80, 'GB')), "
                "or give a plain number in " + (entry.unit or "its unit")
            )
        try:
            value = value.to(entry.pint_unit).magnitude
        except pint.DimensionalityError:
            got_unit = f"{value.units:~P}" or "dimensionless"
            raise UnitError(
                f"argument '{name}' to {where} must be in units convertible to "
                f"'{entry.unit}' ({entry.dimension}); got '{got_unit}' "
                f"({describe_dimension(value.units)})",
                value.units,
                entry.pint_unit,
            ) from None
    elif not isinstance(value, (numbers.Real, np.ndarray, list, tuple)):
        raise InputError(
            f"{where}: argument '{name}' got {type(value).__name__} {value!r}; give a number"
            + (f", an array or a quantity in {entry.unit}" if entry.unit else " or an array")
        )
    if type(value) is float or type(value) is int:  # a slider's value, many times a second
        plain = _plainly_valid(entry, value)
        if plain is not None:
            return plain
    _refuse_bools_and_complex(value, name, where)
    try:
        array = np.array(value, dtype=np.float64)  # a copy: never round a caller's array
    except OverflowError:
        raise InputError(
            f"{where}: argument '{name}' is too large for a float64 (above 1.8e308); give a "
            "finite number"
        ) from None
    except (TypeError, ValueError):
        raise InputError(
            f"{where}: argument '{name}' got {value!r}, which is not a number or an array "
            "of numbers"
        ) from None
    array = _check_domain(entry, array, where)
    return float(array) if array.ndim == 0 else array


def _refuse_bools_and_complex(value: object, name: str, where: str) -> None:
    """A boolean or a complex number inside an array is not a size: refuse it, never let
    numpy read True as 1 or drop an imaginary part."""
    if isinstance(value, (list, tuple)):
        value = np.asarray(value, dtype=object)
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        if kind == "O":
            items = value.ravel().tolist()
            if any(isinstance(x, (bool, np.bool_)) for x in items):
                raise InputError(f"{where}: argument '{name}' holds a boolean; give numbers")
            if any(isinstance(x, (complex, np.complexfloating)) for x in items):
                raise InputError(
                    f"{where}: argument '{name}' holds a complex number; give real numbers"
                )
        elif kind == "b":
            raise InputError(f"{where}: argument '{name}' holds booleans; give numbers")
        elif kind == "c":
            raise InputError(f"{where}: argument '{name}' holds complex numbers; give real numbers")
    elif isinstance(value, (complex, np.complexfloating)):
        raise InputError(f"{where}: argument '{name}' is complex ({value}); give a real number")


def _named_choice(entry: Entry, value: str, where: str) -> float:
    if not entry.choices:
        raise InputError(
            f"{where}: argument '{entry.name}' got the text {value!r}; give a number"
            + (f" or a quantity in {entry.unit}" if entry.unit else "")
        )
    lowered = {k.lower(): v for k, v in entry.choices.items()}
    key = value.strip().lower()
    if key not in lowered:
        raise InputError(
            f"{where}: argument '{entry.name}' got unknown name {value!r}"
            f"{did_you_mean(key, lowered)} (known: {', '.join(entry.choices)})"
        )
    return float(lowered[key])


def _plainly_valid(entry: Entry, value: float) -> float | None:
    """A plain number checked without numpy: the value as float64 (a count rounded), or None
    when anything is off (the array path then says what)."""
    try:
        x = float(value)
    except OverflowError:
        return None
    if math.isnan(x) or math.isinf(x) or _OUTSIDE[entry.domain](x):
        return None
    if entry.choices is not None and x > WIDEST_ELEMENT:
        return None
    if not entry.integer:
        return x
    rounded = float(round(x))
    if _not_whole(x, rounded) or (entry.domain == "positive" and rounded < 1):
        return None
    return rounded


def _check_domain(entry: Entry, array: np.ndarray, where: str) -> np.ndarray:
    name = entry.name
    nan = np.isnan(array)
    if nan.any():
        raise InputError(f"{where}: argument '{name}' is NaN; give a finite number")
    inf = np.isinf(array)
    if inf.any():
        raise InputError(
            f"{where}: argument '{name}' is infinite ({format_number(_first_bad(array, inf))}); "
            "give a finite number"
        )
    domain = entry.domain
    bad = _OUTSIDE[domain](array)
    if bad.any():
        got = format_number(_first_bad(array, bad))
        has_dimension = bool(entry.pint_unit.dimensionality)
        unit = f" {entry.unit_text}" if has_dimension else ""
        raise InputError(f"{where}: argument '{name}' must be {DOMAINS[domain]}; got {got}{unit}")
    if entry.choices is not None:
        wide = array > WIDEST_ELEMENT
        if wide.any():
            got = format_number(_first_bad(array, wide))
            raise InputError(
                f"{where}: argument '{name}' is a precision ({entry.meaning}), at most "
                f"{WIDEST_ELEMENT:g} B (FP64, the widest format); got {got} {entry.unit_text}: "
                "a total size where a size per element or parameter is asked?"
            )
    if entry.integer:
        rounded = np.round(array)
        off = _not_whole(array, rounded)
        if off.any():
            got = format_number(_first_bad(array, off))
            raise InputError(
                f"{where}: argument '{name}' must be a whole number ({entry.meaning}); got {got}"
            )
        if domain == "positive" and (rounded < 1).any():  # 1e-30 is positive, not a count
            got = format_number(_first_bad(array, rounded < 1))
            raise InputError(
                f"{where}: argument '{name}' must be a whole number of at least 1 "
                f"({entry.meaning}); got {got}"
            )
        return rounded
    return array


def as_quantity(entry: Entry, value: float | np.ndarray) -> pint.Quantity:
    """A coerced value back as a quantity in the entry's unit (for display)."""
    return Q_(value, entry.pint_unit)
