"""Disaggregated prefill and decode, sized as one question (``llmphys.disaggregate``): for a
request mix arriving at ``arrival_rate`` requests per second, how many prefill GPUs and how
many decode GPUs meet a TTFT target and a TPOT target, in which layouts, at which batches.

Each pool is sized on its own roofline, as DistServe does:

- **prefill**: for every layout (n_TP) and batch of prompts prefilled together, the time to
  first token is the prefill step, the overhead and the KV cache's transfer to the decode pool
  (``kv_transfer_time`` over the scenario's interconnect); among the points that meet the TTFT
  target and fit in memory, the one with the most prompt tokens per second per GPU is kept,
  and the pool needs ``prefill_gpus_needed`` of its GPUs, in whole instances of the layout;
- **decode**: the throughput / interactivity frontier (:func:`llmphys.frontier`) at a floor of
  1 / TPOT tokens per second per user, the fewest GPUs for the arrival rate's output tokens
  per second (``decode_gpus_needed``), in whole replicas.

The P:D ratio is ``pd_ratio`` of the two rates.  Queueing is left out: the pools are sized at
full utilization, the fewest GPUs that keep up on average (a lower bound; a real deployment
keeps headroom for bursts, as DistServe's simulator does).

Source: Zhong et al., "DistServe" (OSDI 2024), sections 3-4; Patel et al., "Splitwise"
(ISCA 2024).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmphys.engine import glossary, registry
from llmphys.errors import InfeasibleError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from llmphys.scenario import Scenario

__all__ = ["Disaggregation", "disaggregate"]

#: figures of a prefill design point
PREFILL_FIGURES = (
    "ttft",
    "kv_transfer_time",
    "prefill_tokens_per_second_per_gpu",
    "memory_per_gpu",
    "gpu_count",
)


def _target(value: Any, what: str) -> float:
    """A time target in seconds: a number, a quantity, or text with a unit ("200 ms"), checked
    as the ``ttft`` figure's values are (a time, positive, finite)."""
    from llmphys.engine.coercion import coerce
    from llmphys.engine.parse import parse_value

    entry = registry["ttft"].entry
    if isinstance(value, str):
        value = parse_value(value, entry, f"disaggregate: {what}")
    return float(coerce(entry, value, f"disaggregate: {what}"))


@dataclass(frozen=True)
class Disaggregation:
    """A disaggregated deployment for a request mix: each pool's layout, batch, rate per GPU
    and GPU count, the P:D ratio, and the targets met."""

    scenario: Scenario
    arrival_rate: float
    ttft_target: float
    tpot_target: float
    prefill: pd.Series
    decode: pd.Series
    prefill_gpus: int
    decode_gpus: int
    prefill_gpus_needed: float
    decode_gpus_needed: float
    pd_ratio: float

    @property
    def total_gpus(self) -> int:
        """GPUs of both pools."""
        return self.prefill_gpus + self.decode_gpus

    def table(self) -> pd.DataFrame:
        """One row per pool: layout, batch, rate per GPU, GPUs needed and provisioned, and the
        latency it delivers against its target.

        Returns
        -------
        pandas.DataFrame
            Indexed by pool (``prefill``, ``decode``).
        """
        import pandas as pd

        p, d = self.prefill, self.decode
        # fmt: off
        return pd.DataFrame(
            [
                {"pool": "prefill", "n_TP": int(p["tp"]), "batch": int(p["batch"]),
                 "tokens/s per GPU": p["prefill_tokens_per_second_per_gpu"],
                 "GPUs needed": self.prefill_gpus_needed, "GPUs": self.prefill_gpus,
                 "latency": f"TTFT {p['ttft'] + p['kv_transfer_time']:.3g} s "
                            f"(incl. KV transfer {p['kv_transfer_time'] * 1e3:.3g} ms) "
                            f"<= {self.ttft_target:.3g} s"},
                {"pool": "decode", "n_TP": int(d["tp"]), "batch": int(d["batch"]),
                 "tokens/s per GPU": d["tokens_per_second_per_gpu"],
                 "GPUs needed": self.decode_gpus_needed, "GPUs": self.decode_gpus,
                 "latency": f"TPOT {1e3 / d['tokens_per_second_per_user']:.3g} ms "
                            f"<= {self.tpot_target * 1e3:.3g} ms"},
            ]
        ).set_index("pool")
        # fmt: on

    def __str__(self) -> str:
        head = (
            f"{self.arrival_rate:g} requests/s of {self.scenario.value('prompt_len'):,.0f} in / "
            f"{self.scenario.value('new_tokens'):,.0f} out: {self.prefill_gpus} prefill + "
            f"{self.decode_gpus} decode GPUs (P:D = 1 : {self.pd_ratio:.3g})"
        )
        return f"{head}\n{self.table().to_string(float_format=lambda x: f'{x:,.4g}')}"

    def _repr_html_(self) -> str:
        return f"<p>{str(self).splitlines()[0]}</p>" + self.table()._repr_html_()


def disaggregate(
    scenario: Scenario,
    arrival_rate: float,
    ttft: Any,
    tpot: Any,
    tp: Sequence[int] | None = None,
    batch: Sequence[int] | None = None,
) -> Disaggregation:
    """Prefill and decode pools for ``arrival_rate`` requests per second of the scenario's
    prompt and output lengths, meeting ``ttft`` (the KV transfer included) and ``tpot``
    (seconds, or text such as ``"2 s"``, ``"50 ms"``); layouts from ``tp`` and batches from
    ``batch`` (default: the frontier's grids, n_TP 1 to 8 and batches 1 to 4,096, by powers of
    two; layouts the model cannot take left out).

    Parameters
    ----------
    scenario
        The deployment: model, accelerator, precisions, prompt and output lengths.
    arrival_rate
        Requests per second.
    ttft : Quantity, str or float
        The time-to-first-token target, the KV transfer included (a quantity, text such as
        ``"1 s"``, or seconds).
    tpot : Quantity, str or float
        The time-per-output-token target (``"50 ms"``).
    tp
        The tensor-parallel degrees tried for each pool.
    batch
        The batches tried for each pool.

    Returns
    -------
    Disaggregation
        Each pool's layout, batch and GPUs, and the P:D ratio.

    Raises
    ------
    InfeasibleError
        No layout holds the model, or a target is below what any layout reaches (the message
        gives the fastest).
    InputError
        A rate or target that is not a positive number of its unit.

    Examples
    --------
    >>> import llmphys as F
    >>> s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", prompt_len=4096,
    ...                output_len=1024)
    >>> d = F.disaggregate(s, arrival_rate=10, ttft="1 s", tpot="50 ms")
    >>> d.prefill_gpus, d.decode_gpus
    (10, 12)
    """
    from llmphys.engine.coercion import coerce
    from llmphys.serving import NUMBERS, _points, frontier

    rate = float(coerce(glossary["arrival_rate"], arrival_rate, "disaggregate"))
    ttft_s, tpot_s = _target(ttft, "ttft"), _target(tpot, "tpot")
    batches = tuple(batch) if batch is not None else NUMBERS["batch"]
    tp = tuple(tp) if tp is not None else NUMBERS["tp"]  # the frontier's grids unless told
    grid = {"batch": batches, "tp": tp}

    # prefill: the fastest prompt tokens per GPU whose first token meets the target
    points = _points(scenario, grid, {}, PREFILL_FIGURES)
    points["first_token"] = points["ttft"] + points["kv_transfer_time"]
    fits = points[points["fits"]]
    if fits.empty:
        raise InfeasibleError(
            f"disaggregate: no prefill layout of n_TP in {list(tp)} holds "
            f"{scenario.model.display_name}'s weights and one prompt's KV cache"
        )
    meets = fits[fits["first_token"] <= ttft_s]
    if meets.empty:
        best = fits.loc[fits["first_token"].idxmin()]
        raise InfeasibleError(
            f"disaggregate: the TTFT target {ttft_s:.4g} s is below any prefill's: the fastest, "
            f"one batch of {int(best['batch'])} at n_TP={int(best['tp'])}, takes "
            f"{best['first_token']:.4g} s (prefill {best['ttft']:.4g} s, KV transfer "
            f"{best['kv_transfer_time'] * 1e3:.3g} ms); raise the target or widen tp"
        )
    prefill = meets.sort_values(
        ["prefill_tokens_per_second_per_gpu", "gpu_count"], ascending=[False, True]
    ).iloc[0]

    # decode: the fewest GPUs for the output tokens per second at 1 / TPOT per user
    output_rate = rate * scenario.value("new_tokens")
    front = frontier(scenario, over={"batch": batches, "tp": tuple(tp)})
    try:
        decode = front.fewest_gpus(output_rate, 1 / tpot_s)
    except InfeasibleError:
        fit = front.points[front.points["fits"]]
        top = fit.loc[fit["tokens_per_second_per_user"].idxmax()]
        raise InfeasibleError(
            f"disaggregate: the TPOT target {tpot_s * 1e3:.4g} ms is below any decode step "
            f"that fits: the fastest, batch {int(top['batch'])} at n_TP={int(top['tp'])}, "
            f"takes {1e3 / top['tokens_per_second_per_user']:.4g} ms; raise the target or "
            "widen tp"
        ) from None

    # the pools' sizes are the registry's formulas, evaluated by the scenario at the two
    # chosen rates (parts given by value)
    stream = scenario.replace(
        arrival_rate=rate,
        prefill_tokens_per_second_per_gpu=float(prefill["prefill_tokens_per_second_per_gpu"]),
        tokens_per_second_per_gpu=float(decode["tokens_per_second_per_gpu"]),
    )
    need_p, need_d, ratio = (
        stream.evaluate(name).magnitude
        for name in ("prefill_gpus_needed", "decode_gpus_needed", "pd_ratio")
    )
    p_inst, d_inst = int(prefill["gpu_count"]), int(decode["gpu_count"])
    return Disaggregation(
        scenario=scenario,
        arrival_rate=rate,
        ttft_target=ttft_s,
        tpot_target=tpot_s,
        prefill=prefill,
        decode=decode,
        prefill_gpus=math.ceil(need_p / p_inst - 1e-9) * p_inst,
        decode_gpus=math.ceil(need_d / d_inst - 1e-9) * d_inst,
        prefill_gpus_needed=need_p,
        decode_gpus_needed=need_d,
        pd_ratio=ratio,
    )
