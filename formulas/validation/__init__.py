"""Roofline predictions beside published measurements.

For each measurement in ``measurements.json`` (each row names its published source) the
prediction is computed from the registry at *ideal* utilization (MFU = MBU = 1): the
roofline bound.  Beside it:

* the ratio predicted / measured (a bound on a rate is at least the measurement, a bound on a
  time at most: the ratio is >= 1 for tokens/s and <= 1 for TTFT);
* the **implied utilization**: the measured performance as a fraction of the bound, of the
  resource that binds (memory bandwidth for batch-1 decode and short prefills, FLOP rate for
  long prefills).  It lies in (0, 1] exactly when the bound holds;
* the assumption the measurement does not meet (its ``gap``).

Each measurement is a :class:`~llmphys.Scenario` under the ``ideal`` assumption set
(:func:`scenario`).  Several GPUs are treated as one accelerator with their summed FLOP rate and
bandwidth and free communication (ideal tensor parallelism): the fastest any real system could
be, hence still a bound.

>>> from llmphys.validation import validation_table
>>> rows = validation_table()
>>> all(0 < r.implied_utilization <= 1 for r in rows)
True
"""

from __future__ import annotations

import json
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
    "Measurement",
    "Prediction",
    "format_table",
    "measurements",
    "predict",
    "scenario",
    "validation_table",
]

# the measurements, with their sources (package data; not in the API pages: its value is a path)
DATA = Path(__file__).with_name("measurements.json")


@dataclass(frozen=True)
class Measurement:
    """One published measurement and the setting it was taken in."""

    id: str
    source: str
    model: str
    hardware: str
    gpus: int
    phase: Literal["decode", "prefill", "latency"]
    batch: int
    prompt_len: int
    new_tokens: int
    weights: str
    kv: str
    compute: str
    measured: pint.Quantity
    reported_bandwidth: pint.Quantity | None
    setting: str
    gap: str
    config: dict[str, Any] | None = None

    def architecture(self) -> Any:
        """The model: a preset, or the HF config the measurement names."""
        import llmphys

        if self.config is None:
            return llmphys.models[self.model]
        fields = {k: v for k, v in self.config.items() if k not in ("name", "source")}
        return llmphys.load_hf_config(fields, name=self.config["name"])


@dataclass(frozen=True)
class Prediction:
    """The roofline bound for a measurement and what the measurement implies."""

    measurement: Measurement
    predicted: pint.Quantity
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


@cache
def measurements() -> tuple[Measurement, ...]:
    """Every measurement of ``measurements.json``."""
    raw = json.loads(DATA.read_text())["measurements"]
    out = []
    for item in raw:
        bandwidth = item.get("reported_bandwidth")
        out.append(
            Measurement(
                id=item["id"],
                source=item["source"],
                model=item["model"] or item["config"]["name"],
                hardware=item["hardware"],
                gpus=int(item["gpus"]),
                phase=item["phase"],
                batch=int(item["batch"]),
                prompt_len=int(item["prompt_len"]),
                new_tokens=int(item["new_tokens"]),
                weights=item["weights"],
                kv=item["kv"],
                compute=item["compute"],
                measured=Q_(item["measured"]),
                reported_bandwidth=None if bandwidth is None else Q_(bandwidth),
                setting=item["setting"],
                gap=item["gap"],
                config=item.get("config"),
            )
        )
    return tuple(out)


def scenario(m: Measurement) -> Any:
    """The deployment of measurement ``m`` at the roofline bound: the ``ideal`` assumption
    set (utilizations 1, causal FlashAttention, no overhead), the measurement's precisions,
    batch and lengths, and its ``gpus`` as one accelerator of summed FLOP rate and bandwidth
    (ideal tensor parallelism: free communication, nothing replicated)."""
    import llmphys

    hw = llmphys.hardware[m.hardware]
    return llmphys.Scenario(
        m.architecture(),
        hw,
        weights=m.weights,
        kv=m.kv,
        compute=m.compute,
        act=m.compute,
        batch=m.batch,
        prompt_len=m.prompt_len,
        output_len=m.new_tokens,
        assumptions="ideal",
        peak_flops=hw.peak_flops(m.compute) * m.gpus,
        mem_bandwidth=hw.mem_bandwidth * m.gpus,
    )


def predict(m: Measurement) -> Prediction:
    """The roofline bound for ``m`` and the utilization ``m`` implies."""
    s = scenario(m)
    if m.phase == "decode":
        predicted = s.evaluate("tokens_per_second_per_user").to(m.measured.units)
        performance = float((m.measured / predicted).to("").magnitude)
        ratio = float((predicted / m.measured).to("").magnitude)
        bytes_token = s.evaluate("bytes_per_token")
        t_compute, t_memory = s.evaluate("decode_compute_time"), s.evaluate("decode_memory_time")
    elif m.phase == "latency":  # a static batch end to end: its prefill, then every step
        predicted = s.evaluate("e2e_latency").to(m.measured.units)
        performance = float((predicted / m.measured).to("").magnitude)
        ratio = performance
        bytes_token = s.evaluate("bytes_per_token")
        steps = max(m.new_tokens - 1, 0)
        t_compute = s.evaluate("prefill_compute_time") + steps * s.evaluate("decode_compute_time")
        t_memory = s.evaluate("prefill_memory_time") + steps * s.evaluate("decode_memory_time")
    else:
        predicted = s.evaluate("ttft").to(m.measured.units)
        performance = float((predicted / m.measured).to("").magnitude)
        ratio = performance
        bytes_token = None
        t_compute = s.evaluate("prefill_compute_time")
        t_memory = s.evaluate("prefill_memory_time")
    return Prediction(
        measurement=m,
        predicted=predicted,
        bound="memory" if t_memory >= t_compute else "compute",
        ratio=ratio,
        implied_utilization=performance,
        compute_time=t_compute.to("ms"),
        memory_time=t_memory.to("ms"),
        bytes_per_token=bytes_token,
    )


def validation_table() -> list[Prediction]:
    """A prediction for every measurement."""
    return [predict(m) for m in measurements()]


def format_table(rows: list[Prediction] | None = None) -> str:
    """The validation table as aligned text: measurement, bound, ratio, implied utilization."""
    rows = validation_table() if rows is None else rows
    header = (
        "measurement",
        "measured",
        "roofline bound",
        "bound by",
        "predicted/measured",
        "implied",
    )
    cells = [
        (
            r.measurement.id,
            format_quantity(r.measurement.measured, sig=4),
            format_quantity(r.predicted, sig=4),
            r.bound,
            f"{r.ratio:.2f}",
            f"{r.resource} {r.implied_utilization:.2f}",
        )
        for r in rows
    ]
    return str(Table(header, cells))
