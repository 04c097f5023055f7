"""Calibration: the efficiency model fitted to published measurements, and its held-out error.

The roofline bound says how fast a deployment could be; a user asking "what TTFT will I get?"
needs what it will be.  :mod:`llmphys.efficiency` adds a few physical terms to every pass
(achieved bandwidth, a FLOP utilization saturating in the tokens of a prefill, a fixed cost
per layer and per request); this module fits them to the measurements of
:mod:`llmphys.validation`.  The model's fixed cost per pass is not fitted: only the layer
count varies between the rows' passes, so the data cannot tell it from the cost per layer
(``typical`` keeps it at 0).

* :func:`fit` minimizes the squared log-ratios predicted / measured (scipy's bounded
  least squares), every measurement counted once;
* :func:`cross_validate` leaves one publisher (one harness: gpt-fast, TensorRT-LLM's docs,
  LMDeploy, vLLM's CI, NIM, ...) out at a time: fits on the others, predicts the one left
  out.  The held-out errors are what a user should expect on an engine the fit has not seen;
* :func:`error_summary` reports the median and worst absolute error per regime (prefill,
  decode) and per metric.

The ``typical`` assumption set carries the values :func:`fit` gives on every row
(``assumptions.toml``; a test refits and compares).

>>> from llmphys.calibration import PARAMETERS
>>> print(len(PARAMETERS), PARAMETERS[:3])
6 ('bw_utilization', 'utilization', 'utilization_fp8')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from llmphys.display import Table
from llmphys.engine.docs import shared_sections
from llmphys.validation import Measurement, measurements, read_from, scenario

__all__ = [
    "BOUNDS",
    "PARAMETERS",
    "Fold",
    "cross_validate",
    "error_summary",
    "fit",
    "format_held_out",
    "format_summary",
    "held_out",
]

#: the fitted values, in the order of a parameter vector: glossary inputs, and
#: ``utilization_fp8``, the FLOP utilization at FP8 compute (the ``typical`` set's
#: ``[typical.compute.fp8]`` value of ``utilization``)
PARAMETERS: tuple[str, ...] = (
    "bw_utilization",
    "utilization",
    "utilization_fp8",
    "mfu_half_tokens",
    "layer_overhead",
    "overhead",
)

#: the range each may take in a fit (glossary units): fractions of a peak, tokens, seconds
BOUNDS: Mapping[str, tuple[float, float]] = {
    "bw_utilization": (0.05, 1.0),
    "utilization": (0.05, 1.0),
    "utilization_fp8": (0.05, 1.0),
    "mfu_half_tokens": (0.0, 8192.0),
    "layer_overhead": (0.0, 0.001),
    "overhead": (0.0, 0.5),
}

# the glossary input a parameter sets, at the compute precision it applies to (None: any)
_SETS = {"utilization_fp8": ("utilization", "fp8")}


class _Row:
    """One measurement compiled for fitting: its figure as a numpy function of the inputs."""

    def __init__(self, m: Measurement) -> None:
        self.m = m
        s = scenario(m, "typical")
        figure, tokens = read_from(m)
        f, self.fn, names = s.compiled(figure)
        values = s.values_for(figure)
        self.names = names
        self.fixed = [values[n] for n in names]
        self.slots = []
        for k, p in enumerate(PARAMETERS):
            name, compute = _SETS.get(p, (p, None))
            own = _SETS.get(f"{p}_{m.compute}")  # a value of its own at this precision
            if name in names and compute in (None, m.compute) and own is None:
                self.slots.append((names.index(name), k))
        unit = f.unit
        self.rate = tokens is not None
        one = tokens / (1 * unit) if self.rate else 1 * unit
        self.scale = float(one.to(m.measured.units).magnitude)
        self.measured = float(m.measured.magnitude)

    def predict(self, theta: np.ndarray) -> float:
        args = list(self.fixed)
        for at, k in self.slots:
            args[at] = theta[k]
        value = float(self.fn(*args))
        return self.scale / value if self.rate else self.scale * value


@cache
def _rows() -> tuple[_Row, ...]:
    return tuple(_Row(m) for m in measurements())


def _fitted(rows: Sequence[_Row], start: np.ndarray) -> np.ndarray:
    from scipy.optimize import least_squares

    lo = np.array([BOUNDS[p][0] for p in PARAMETERS])
    hi = np.array([BOUNDS[p][1] for p in PARAMETERS])
    span = hi - lo

    def residuals(u: np.ndarray) -> np.ndarray:
        theta = lo + span * u
        logs = [np.log(r.predict(theta) / r.measured) for r in rows]
        return np.array(logs)

    u0 = np.clip((start - lo) / span, 1e-6, 1 - 1e-6)
    result = least_squares(residuals, u0, bounds=(0, 1), x_scale="jac", xtol=1e-10,
                           ftol=1e-10)  # fmt: skip
    return lo + span * result.x


_START = np.array([0.7, 0.5, 0.4, 128.0, 2e-5, 0.005])


def fit(exclude: Iterable[str] = ()) -> dict[str, float]:
    """The efficiency parameters that best fit the measurements (least squares in log space,
    within :data:`~llmphys.calibration.BOUNDS`).

    Parameters
    ----------
    exclude
        Publishers whose rows the fit does not see (a held-out fold).

    Returns
    -------
    dict of str to float
        Each of :data:`PARAMETERS` -> its fitted value, in its glossary unit.
    """
    skip = set(exclude)
    rows = [r for r in _rows() if r.m.publisher not in skip]
    return dict(zip(PARAMETERS, (float(x) for x in _fitted(rows, _START)), strict=True))


@dataclass(frozen=True)
class Fold:
    """One measurement predicted by a fit that did not see its publisher's rows."""

    measurement: Measurement
    predicted: float
    parameters: Mapping[str, float]

    @property
    def error(self) -> float:
        """Signed relative error of the held-out prediction, (predicted - measured) / measured."""
        return self.predicted / float(self.measurement.measured.magnitude) - 1


@cache
def cross_validate() -> tuple[Fold, ...]:
    """Leave one publisher out: every measurement predicted by a fit on the other publishers'
    rows.  A publisher is one harness (gpt-fast's two READMEs are one, TensorRT-LLM's docs at
    every version are one): a fit never sees another run of the harness it predicts.

    Returns
    -------
    tuple of Fold
        One per measurement, in the order of :func:`llmphys.validation.measurements`
        (computed once).
    """
    rows = _rows()
    folds: list[Fold] = []
    for group in dict.fromkeys(r.m.publisher for r in rows):
        theta = _fitted([r for r in rows if r.m.publisher != group], _START)
        params = dict(zip(PARAMETERS, (float(x) for x in theta), strict=True))
        folds += [Fold(r.m, r.predict(theta), params) for r in rows if r.m.publisher == group]
    order = {m.id: i for i, m in enumerate(measurements())}
    return tuple(sorted(folds, key=lambda f: order[f.measurement.id]))


def held_out(measurement_id: str) -> Fold:
    """The held-out prediction of one measurement.

    Parameters
    ----------
    measurement_id
        The measurement's ``id`` in ``measurements.json``.

    Returns
    -------
    Fold
        Its prediction by the fit that did not see its publisher.

    Raises
    ------
    KeyError
        No measurement has that id.
    """
    for f in cross_validate():
        if f.measurement.id == measurement_id:
            return f
    raise KeyError(measurement_id)


#: the argument of the reports on held-out predictions, described once
_on_folds = shared_sections(
    {"folds": "folds\n    The held-out predictions (default: :func:`cross_validate`)."}
)


@_on_folds
def error_summary(folds: Sequence[Fold] | None = None) -> dict[str, dict[str, float]]:
    """Median and worst absolute held-out error, and the row count, per regime (``prefill``,
    ``decode``) and per metric.

    {params}

    Returns
    -------
    dict
        ``{group: {"median": ..., "worst": ..., "rows": ...}}``, errors as fractions.
    """
    folds = cross_validate() if folds is None else folds
    groups: dict[str, list[float]] = {}
    for f in folds:
        m = f.measurement
        for key in (m.regime, m.metric):
            groups.setdefault(key, []).append(abs(f.error))
    return {
        k: {"median": float(np.median(v)), "worst": float(np.max(v)), "rows": len(v)}
        for k, v in groups.items()
    }


def format_summary(summary: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """The held-out errors as a table: regime or metric, rows, median and worst error.

    Parameters
    ----------
    summary
        :func:`error_summary`'s result (default: computed).

    Returns
    -------
    str
        Aligned text.
    """
    summary = error_summary() if summary is None else summary
    cells = [
        (k, str(int(v["rows"])), f"{v['median']:.1%}", f"{v['worst']:.1%}")
        for k, v in summary.items()
    ]
    return str(Table(("held-out", "rows", "median |error|", "worst |error|"), cells))


@_on_folds
def format_held_out(folds: Sequence[Fold] | None = None) -> str:
    """Every measurement beside its held-out prediction (a fit without its source) and the
    prediction's error.

    {params}

    Returns
    -------
    str
        Aligned text, one line per measurement.
    """
    from llmphys.engine.formatting import format_quantity
    from llmphys.units import Q_

    folds = cross_validate() if folds is None else folds
    cells = [
        (
            f.measurement.id,
            f.measurement.metric,
            format_quantity(f.measurement.measured, sig=4),
            format_quantity(Q_(f.predicted, f.measurement.measured.units), sig=3),
            f"{f.error:+.0%}",
        )
        for f in folds
    ]
    return str(Table(("measurement", "metric", "measured", "held-out prediction", "error"), cells))
