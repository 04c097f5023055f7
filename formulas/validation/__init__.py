"""Predictions beside published measurements: the roofline bound and the expected value.

For each measurement in ``measurements.json`` (each row names its published source, the
engine, and how the benchmark defines its metric) two predictions come from the registry:

* the **bound**: the ``ideal`` assumption set (utilizations 1, no fixed cost), with the row's
  GPUs as one accelerator of summed FLOP rate and bandwidth and free communication (ideal
  tensor parallelism).  No real run beats it: a rate bound is at least the measured rate, a
  time bound at most the measured time;
* the **expected** value: the ``typical`` assumption set, whose efficiency model
  (:mod:`llmphys.efficiency`) is fitted to these rows (:mod:`llmphys.calibration`), on the
  row's real layout (tensor parallelism over the accelerator's interconnect).

Beside them: the ratio bound / measured, the **implied utilization** (the measured
performance as a fraction of the bound, of the resource that binds: bandwidth for batch-1
decode and short prefills, FLOP rate for long prefills), and the expected value's error.

This bound treats the GPUs as one (free communication): it holds for any layout.
:meth:`Scenario.bound() <llmphys.Scenario.bound>` is the roofline of one given layout, its
prefill all-reduces included, so it is slower for a layout than this one.

>>> from llmphys.validation import validation_table
>>> rows = validation_table()
>>> all(0 < r.implied_utilization <= 1 for r in rows)
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pint

from llmphys.display import Table
from llmphys.engine.formatting import format_quantity
from llmphys.units import Q_

__all__ = [
    "DATA",
    "METRICS",
    "Measurement",
    "Prediction",
    "figure",
    "format_table",
    "measurements",
    "predict",
    "read_from",
    "scenario",
    "validation_table",
]

# the measurements, with their sources (package data; not in the API pages: its value is a path)
DATA = Path(__file__).with_name("measurements.json")

Metric = Literal[
    "ttft", "itl", "tokens_per_second_per_user", "throughput_per_gpu", "e2e_latency"
]

#: each metric a measurement may report: (its unit, whether it is a rate, what it is)
METRICS: Mapping[str, tuple[str, bool, str]] = {
    "ttft": ("ms", False, "time to first token"),
    "itl": ("ms", False, "mean inter-token latency"),
    "tokens_per_second_per_user": (
        "token/s", True, "new tokens over the wall time of a batch-1 request, prefill included"
    ),
    "throughput_per_gpu": (
        "token/s", True, "a static batch's output tokens over its wall time, per GPU"
    ),
    "e2e_latency": ("ms", False, "wall time of a static batch: its prefill, then every step"),
}


@dataclass(frozen=True)
class Measurement:
    """One published measurement and the setting it was taken in."""

    id: str
    source: str
    citation: str
    publisher: str
    engine: str
    engine_version: str
    model: str
    hardware: str
    gpus: int
    tp: int
    metric: Metric
    batch: int
    prompt_len: int
    new_tokens: int
    weights: str
    kv: str
    compute: str
    measured: pint.Quantity
    metric_definition: str
    reported_bandwidth: pint.Quantity | None
    setting: str
    gap: str
    assumptions: tuple[str, ...] = ()
    config: Mapping[str, Any] | None = None

    @property
    def is_rate(self) -> bool:
        """True for a rate (tokens/s: a bound is at least it), False for a time."""
        return METRICS[self.metric][1]

    @property
    def regime(self) -> Literal["prefill", "decode"]:
        """``prefill`` for a first-token latency, ``decode`` for a decode figure (an
        inter-token latency, a request's or a static batch's tokens per second, a batch's
        end-to-end latency)."""
        return "prefill" if self.metric == "ttft" else "decode"

    def architecture(self) -> Any:
        """The model: a preset, or the HF config the measurement names.

        Returns
        -------
        llmphys.presets.Model
            The architecture the measured run served.
        """
        import llmphys

        if self.config is None:
            return llmphys.models[self.model]
        fields = {k: v for k, v in self.config.items() if k not in ("name", "source")}
        return llmphys.load_hf_config(fields, name=self.config["name"])


@dataclass(frozen=True)
class Prediction:
    """The bound and the expected value for a measurement, and what the measurement implies."""

    measurement: Measurement
    predicted: pint.Quantity
    expected: pint.Quantity
    bound: Literal["memory", "compute"]
    ratio: float
    implied_utilization: float
    compute_time: pint.Quantity
    memory_time: pint.Quantity
    bytes_per_token: pint.Quantity | None

    @property
    def resource(self) -> str:
        """The utilization the measurement implies: MBU (bandwidth) or MFU (FLOP rate)."""
        return "MBU" if self.bound == "memory" else "MFU"

    @property
    def holds(self) -> bool:
        """True when the measurement is no faster than the bound."""
        return 0 < self.implied_utilization <= 1 + 1e-12

    @property
    def error(self) -> float:
        """The expected value's signed error, (expected - measured) / measured."""
        return float((self.expected / self.measurement.measured).to("").magnitude) - 1


def _row(item: Mapping[str, Any]) -> Measurement:
    bandwidth = item.get("reported_bandwidth")
    return Measurement(
        id=item["id"],
        source=item["source"],
        citation=item["citation"],
        publisher=item["publisher"],
        engine=item["engine"],
        engine_version=item["engine_version"],
        model=item["model"] or item["config"]["name"],
        hardware=item["hardware"],
        gpus=int(item["gpus"]),
        tp=int(item["tp"]),
        metric=item["metric"],
        batch=int(item["batch"]),
        prompt_len=int(item["prompt_len"]),
        new_tokens=int(item["new_tokens"]),
        weights=item["weights"],
        kv=item["kv"],
        compute=item["compute"],
        measured=Q_(item["measured"]),
        metric_definition=item["metric_definition"],
        reported_bandwidth=None if bandwidth is None else Q_(bandwidth),
        setting=item["setting"],
        gap=item["gap"],
        assumptions=tuple(item.get("assumptions", ())),
        config=item.get("config"),
    )


@cache
def measurements() -> tuple[Measurement, ...]:
    """Every measurement of ``measurements.json`` (read once).

    Returns
    -------
    tuple of Measurement
        In the file's order.
    """
    return tuple(_row(item) for item in json.loads(DATA.read_text())["measurements"])


def scenario(m: Measurement, assumptions: Any = "ideal") -> Any:
    """The deployment of measurement ``m``.

    Under ``ideal`` (the bound): the row's ``gpus`` as one accelerator of summed FLOP rate and
    bandwidth (free communication, nothing replicated).  Under any other assumption set (the
    expected value): the row's layout, tensor parallelism of degree ``tp`` over the
    accelerator's interconnect.

    Parameters
    ----------
    m
        A measurement.
    assumptions : str, dict or AssumptionSet
        The assumption set: ``"ideal"`` for the bound, another for the expected value.

    Returns
    -------
    Scenario
        The deployment of the measured run.
    """
    import llmphys

    hw = llmphys.hardware[m.hardware]
    common = {
        "weights": m.weights, "kv": m.kv, "compute": m.compute, "act": m.compute,
        "batch": m.batch, "prompt_len": m.prompt_len, "output_len": m.new_tokens,
    }  # fmt: skip
    if assumptions == "ideal":
        return llmphys.Scenario(
            m.architecture(), hw, assumptions="ideal",
            peak_flops=hw.peak_flops(m.compute) * m.gpus,
            mem_bandwidth=hw.mem_bandwidth * m.gpus, **common,
        )  # fmt: skip
    return llmphys.Scenario(m.architecture(), hw, tp=m.tp, assumptions=assumptions, **common)


#: the registry figure each metric is read from; a rate is tokens over it
_FIGURE_OF = {
    "ttft": "ttft",
    "itl": "inter_token_latency",
    "e2e_latency": "e2e_latency",
    "tokens_per_second_per_user": "e2e_latency",
    "throughput_per_gpu": "e2e_latency",
}


def read_from(m: Measurement) -> tuple[str, pint.Quantity | None]:
    """Which registry figure ``m``'s metric is read from, and for a rate the tokens it is
    counted over (the batch's output tokens, per GPU for ``throughput_per_gpu``): the one
    definition :func:`figure` and the calibration's fit both use.

    Parameters
    ----------
    m
        The measurement.

    Returns
    -------
    tuple
        The figure's name, and the tokens (a quantity) or None for a time.
    """
    if not m.is_rate:
        return _FIGURE_OF[m.metric], None
    per = m.gpus if m.metric == "throughput_per_gpu" else 1
    return _FIGURE_OF[m.metric], Q_(m.batch * m.new_tokens / per, "token")


def figure(s: Any, m: Measurement) -> pint.Quantity:
    """What a scenario predicts for a measurement's metric.

    Parameters
    ----------
    s : Scenario
        The deployment (:func:`scenario`'s).
    m
        The measurement whose metric (TTFT, ITL, end-to-end latency, a throughput) to give.

    Returns
    -------
    Quantity
        The prediction, in the measurement's unit.
    """
    name, tokens = read_from(m)
    value = s.evaluate(name)
    if tokens is not None:  # a rate: tokens over the batch's wall time
        value = tokens / value
    return value.to(m.measured.units)


def _times(s: Any, m: Measurement) -> tuple[pint.Quantity, pint.Quantity]:
    """The compute and memory times of the passes behind ``m``'s metric."""
    if m.metric == "ttft":
        return s.evaluate("prefill_compute_time"), s.evaluate("prefill_memory_time")
    steps = max(m.new_tokens - 1, 0)
    compute, memory = s.evaluate("decode_compute_time"), s.evaluate("decode_memory_time")
    if m.metric == "itl":
        return compute, memory
    return (
        s.evaluate("prefill_compute_time") + steps * compute,
        s.evaluate("prefill_memory_time") + steps * memory,
    )


def predict(m: Measurement, expected: Any = None) -> Prediction:
    """The bound for ``m``, the utilization ``m`` implies, and the expected value.

    Parameters
    ----------
    m
        A measurement.
    expected : str, dict or AssumptionSet, optional
        The assumption set of the expected value (default ``"typical"``).

    Returns
    -------
    Prediction
        The bound, the expected value, the resource that binds and the implied utilization.
    """
    s = scenario(m)
    predicted = figure(s, m)
    ratio = float((predicted / m.measured).to("").magnitude)
    t_compute, t_memory = _times(s, m)
    return Prediction(
        measurement=m,
        predicted=predicted,
        expected=figure(scenario(m, expected or "typical"), m),
        bound="memory" if t_memory >= t_compute else "compute",
        ratio=ratio,
        implied_utilization=1 / ratio if m.is_rate else ratio,
        compute_time=t_compute.to("ms"),
        memory_time=t_memory.to("ms"),
        bytes_per_token=None if m.metric == "ttft" else s.evaluate("bytes_per_token"),
    )


def validation_table() -> list[Prediction]:
    """A prediction for every measurement.

    Returns
    -------
    list of Prediction
        In the order of :func:`measurements`.
    """
    return [predict(m) for m in measurements()]


def format_table(rows: list[Prediction] | None = None) -> str:
    """The validation table as aligned text: measurement, metric, measured value, the expected
    value (``typical``, whose fit includes this row) and its error, the roofline bound and
    the utilization the measurement implies.

    Parameters
    ----------
    rows
        The predictions to show (default: :func:`validation_table`).

    Returns
    -------
    str
        One line per measurement under a header.
    """
    rows = validation_table() if rows is None else rows
    short = {"tokens_per_second_per_user": "tok/s/user", "throughput_per_gpu": "tok/s/GPU",
             "e2e_latency": "e2e"}  # fmt: skip
    header = ("measurement", "metric", "measured", "expected", "error", "bound", "implied")
    cells = [
        (
            r.measurement.id,
            short.get(r.measurement.metric, r.measurement.metric),
            format_quantity(r.measurement.measured, sig=4),
            format_quantity(r.expected, sig=3),
            f"{r.error:+.0%}",
            format_quantity(r.predicted, sig=3),
            f"{r.resource} {r.implied_utilization:.2f}",
        )
        for r in rows
    ]
    return str(Table(header, cells))
