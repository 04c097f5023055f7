"""Sweeps: a formula over a grid of values, as a labelled array with units.

``formula.sweep(**values)``: every 1-D value is an axis, in keyword order; scalars are not
axes.  Returns an :class:`xarray.DataArray` with named axes, coordinate labels (names kept for
named precisions) and units in ``attrs`` (see ``docs/numerics.md`` for why xarray).  The grid
is one call of the formula's compiled function (:mod:`llmphys.engine.compiled`), its inputs
validated as a call validates them.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pint

from llmphys.engine.coercion import coerce
from llmphys.errors import InputError
from llmphys.units import Q_

if TYPE_CHECKING:  # pragma: no cover
    import xarray

    from llmphys.engine.formula import Formula

__all__ = ["sweep"]


class _Axis:
    """One swept input: its labels (as given) and the numbers the formula receives."""

    def __init__(self, name: str, labels: np.ndarray, value: Any, units: str | None) -> None:
        self.name = name
        self.labels = labels
        self.value = value  # 1-D: a float64 array, or a quantity array
        self.units = units  # the labels' unit (None for names)


def _is_name_list(items: Sequence[Any]) -> bool:
    return any(isinstance(v, (str, pint.Quantity)) for v in items)


def _axis_or_scalar(formula: Formula, name: str, value: Any, where: str) -> _Axis | None:
    """The axis for a 1-D ``value``, ``None`` for a scalar (or anything the formula's own
    validation should refuse)."""
    if isinstance(value, (str, bool, numbers.Number, np.generic)):
        return None
    if name not in formula.input_names and name not in formula.overridable_parts():
        return None  # the formula's own check names it and suggests the closest input
    entry = formula.registry.glossary[name]
    if isinstance(value, pint.Quantity):
        if np.ndim(value.magnitude) == 0:
            return None
        magnitude = np.asarray(value.magnitude)
        _check_1d(name, magnitude, where)
        return _Axis(name, magnitude, value, f"{value.units:~P}")
    if isinstance(value, (list, tuple, range)) or hasattr(value, "__array__"):
        items = list(value) if not hasattr(value, "__array__") else None
        if items is not None and _is_name_list(items):
            if all(isinstance(v, pint.Quantity) for v in items):
                try:
                    q = Q_.from_list(items)
                except pint.DimensionalityError:
                    q = None
                if q is not None:
                    return _Axis(name, np.asarray(q.magnitude), q, f"{q.units:~P}")
            numbers_ = [coerce(entry, v, where) for v in items]
            labels = np.asarray([v if isinstance(v, str) else f"{v}" for v in items])
            return _Axis(name, labels, np.asarray(numbers_, dtype=np.float64), None)
        array = np.asarray(value)
        if array.ndim == 0:
            return None
        _check_1d(name, array, where)
        if array.dtype.kind in "US":  # a numpy array of names
            return _axis_or_scalar(formula, name, array.tolist(), where)
        return _Axis(name, array, array, entry.unit_text)
    return None


def _check_1d(name: str, array: np.ndarray, where: str) -> None:
    if array.ndim != 1:
        raise InputError(
            f"{where}: sweep over {name!r} needs a scalar or a 1-D list of values (each swept "
            f"input is one axis); got shape {array.shape}"
        )
    if array.size == 0:
        raise InputError(f"{where}: sweep over {name!r} got no values; give at least one")


def _units(text: str | None) -> dict[str, str]:
    """``attrs`` for a coordinate: its unit, if it has one (plain counts have none)."""
    return {"units": text} if text else {}


def _along(value: Any, axis: int, n_axes: int) -> Any:
    """A 1-D value reshaped to lie along ``axis`` of an ``n_axes``-D grid."""
    shape = [1] * n_axes
    shape[axis] = -1
    if isinstance(value, pint.Quantity):
        return Q_(np.reshape(np.asarray(value.magnitude), shape), value.units)
    return np.reshape(value, shape)


def sweep(formula: Formula, /, **values: Any) -> xarray.DataArray:
    """Evaluate ``formula`` over the grid of ``values``, as a labelled array with units.

    Every 1-D value (a list, tuple, range, array or array quantity) is an axis, in the order
    the keywords were given; scalars (numbers, quantities, names) are fixed inputs, kept as
    scalar coordinates.  Lists of names (``bytes_per_param=["bf16", "fp8", "int4"]``) keep the
    names as the axis labels.  A formula's part may be given instead of its inputs, as in a
    call.  Values are validated exactly as ``formula(**values)`` validates them.

    Parameters
    ----------
    formula
        The formula to evaluate.
    **values
        Its inputs (or overridable parts): 1-D values are axes, scalars are fixed.

    Returns
    -------
    xarray.DataArray
        Named after the formula: dims = the swept inputs, coordinates = their values as given
        (with ``attrs["units"]``), data = float64 in ``formula.unit`` (``attrs["units"]``).
        ``.to_dataframe()`` or ``.to_pandas()`` give a table; ``.plot()`` a labelled plot.

    Raises
    ------
    InputError
        A swept value that is not 1-D, or empty; any value a call would refuse.

    Examples
    --------

    >>> import llmphys as F
    >>> grid = F.kv_cache_bytes.sweep(batch=[1, 8], seq_len=[1000, 10000],
    ...                               kv_bytes=["bf16", "fp8"], layers=80, n_kv_heads=8,
    ...                               head_dim=128)
    >>> grid.dims, grid.shape, grid.attrs["units"]
    (('batch', 'seq_len', 'kv_bytes'), (2, 2, 2), 'B')
    >>> float(grid.sel(batch=8, seq_len=10000, kv_bytes="fp8")) / 1e9     # GB
    13.1072
    """
    import xarray

    where = f"formula '{formula.name}'"
    axes: list[_Axis] = []
    scalars: dict[str, Any] = {}
    for name, value in values.items():
        axis = _axis_or_scalar(formula, name, value, where)
        if axis is None:
            scalars[name] = value
        else:
            axes.append(axis)
    shaped: dict[str, Any] = {}
    position = {a.name: i for i, a in enumerate(axes)}
    for name in values:  # keyword order, for the formula's own messages
        if name in position:
            shaped[name] = _along(axes[position[name]].value, position[name], len(axes))
        else:
            shaped[name] = scalars[name]
    binding = formula.bind(shaped)
    converted = binding.values
    fn, names = binding.function()
    grid_shape = tuple(len(a.labels) for a in axes)
    out = fn(*(converted[n] for n in names))
    if not (isinstance(out, np.ndarray) and out.shape == grid_shape):
        out = np.array(np.broadcast_to(np.asarray(out, dtype=np.float64), grid_shape))

    gloss = formula.registry.glossary
    coords: dict[str, Any] = {}
    for axis in axes:
        coords[axis.name] = xarray.Variable(axis.name, axis.labels, attrs=_units(axis.units))
    for name, value in scalars.items():
        if isinstance(value, pint.Quantity):
            coords[name] = xarray.Variable((), value.magnitude, attrs=_units(f"{value.units:~P}"))
        elif isinstance(value, str):
            coords[name] = xarray.Variable((), value)
        else:
            coords[name] = xarray.Variable((), value, attrs=_units(gloss[name].unit_text))
    return xarray.DataArray(
        out,
        dims=[a.name for a in axes],
        coords=coords,
        name=formula.name,
        attrs={
            "units": f"{formula.unit:~P}",
            "symbol": formula.entry.text,
            "description": formula.meaning,
        },
    )
