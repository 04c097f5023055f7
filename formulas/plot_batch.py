"""The plots over the batch (re-exported by :mod:`llmphys.plots`): the largest context that fits
per accelerator (:func:`context_frontier`, the inverse of the memory per GPU, drawn) and the
bandwidth a decode throughput needs (:func:`bandwidth_vs_batch`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pint

from llmphys import plot_support as support
from llmphys.engine.formatting import format_quantity, readable_unit, text_number
from llmphys.engine.formula import Formula, registry
from llmphys.errors import InfeasibleError, InputError
from llmphys.units import Q_

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["bandwidth_vs_batch", "context_frontier"]


# --------------------------------------------------------------------------- frontier
@support.documented
def context_frontier(
    *,
    model: Any = None,
    hardware: Any = None,
    precision: str = "bf16",
    batch: Sequence[float] | None = None,
    ax: Axes | None = None,
    label: str | None = None,
    **values: Any,
) -> Axes:
    """The largest context that fits per accelerator, as a function of the batch.

    ``memory_per_gpu`` is solved for ``seq_len`` with one accelerator's capacity as the budget
    and every other input given except the batch: the answer is the symbolic inverse (for
    Llama 3.1 70B in BF16 on one A100, ``S = 1.9e4 / B`` tokens... when it fits), compiled and
    drawn over ``batch``.  A model whose KV cache has no closed-form inverse (sliding windows)
    is solved numerically at each batch instead.  Call it again on the same ``ax`` to compare
    models, precisions or GPU counts; ``label`` names the curve.

    Parameters
    ----------
    label
        The curve's name in the legend.
    {params}

    {drawn}

    Examples
    --------
    >>> from llmphys import plots
    >>> ax = plots.context_frontier(bytes_per_param="int4", label="INT4 weights")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('batch [seq]', 'largest context [tok]')
    """
    import llmphys

    for name in ("seq_len", "batch"):
        if name in values:
            raise InputError(
                f"context_frontier: {name!r} is an axis of the plot (seq_len is solved for, "
                "batch is swept); do not give it"
            )
    ax = support.axes(ax)
    inputs = support.Inputs(values, model, hardware, precision)
    f = inputs.formula("memory_per_gpu")
    given = inputs.for_formula(f)
    for name in ("seq_len", "batch"):
        given.pop(name, None)
        inputs.defaulted.discard(name)
    capacity = Q_(inputs.value("gpu_memory"), registry.glossary["gpu_memory"].unit)
    inputs.check_used()
    batches = support.batches(batch)
    grid = np.geomspace(batches.min(), batches.max(), 256)
    seq = registry.glossary["seq_len"]
    try:
        solution = llmphys.solve(f, "seq_len", target=capacity, **given)
        frontier = np.asarray(solution.lambdify()(grid), dtype=float)
        expression = solution.expression
    except InfeasibleError:  # no closed form: a numeric solve per batch
        expression = None
        grid = np.unique(np.round(grid))
        frontier = np.array([_largest(f, capacity, given, b) for b in grid])
    frontier = np.where(frontier >= 1, frontier, np.nan)
    if np.all(np.isnan(frontier)):  # nothing fits: let the solver say why
        llmphys.solve(f, "seq_len", target=capacity, batch=float(batches.min()), **given)
    budget = f"{format_quantity(capacity, sig=4)} = {format_quantity(capacity, sig=4, binary=True)}"
    if label is None:
        inverse = (
            f"{seq.text} = {f.to_text(expression)}" if expression is not None else "numeric inverse"
        )
        capacity_text = f"{support.symbol('gpu_memory')} = {budget}"
        label = "; ".join(bit for bit in (inputs.note(), capacity_text, inverse) if bit)
    lines = ax.plot(grid, frontier, lw=2, label=label)
    ax.fill_between(grid, 1, frontier, color=lines[0].get_color(), alpha=0.08, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(f"batch [{registry.glossary['batch'].unit_text}]")
    ax.set_ylabel(f"largest context [{seq.unit_text}]")
    fits = f"{support.symbol('memory_per_gpu')} ≤ {support.symbol('gpu_memory')}"
    ax.set_title(f"largest context that fits: {fits}", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=7)
    return ax


def _largest(f: Formula, capacity: pint.Quantity, given: Mapping[str, Any], batch: float) -> float:
    import llmphys

    try:
        solution = llmphys.solve(f, "seq_len", target=capacity, batch=batch, **given)
    except InfeasibleError:
        return float("nan")
    return float(solution.exact.magnitude)


# --------------------------------------------------------------------------- bandwidth
@support.documented
def bandwidth_vs_batch(
    *,
    model: Any = None,
    hardware: Any = None,
    precision: str = "bf16",
    batch: Sequence[float] | None = None,
    ax: Axes | None = None,
    **values: Any,
) -> Axes:
    """Memory bandwidth a decode throughput needs, over the batch, against the accelerator's.

    ``bandwidth_conservative`` (no cache hits) and ``bandwidth_optimistic`` (a fraction of the
    weight reads served on chip) at the given throughput, for each batch: the weight read is
    shared by the batch, the KV traffic is not.  Horizontal lines: the peak bandwidth and the
    effective one (``effective_bandwidth``, peak x MBU).  The marked batch is the smallest
    whose conservative requirement fits the peak (a solve for ``batch``).

    {params}

    {drawn}

    Examples
    --------
    >>> from llmphys import plots
    >>> ax = plots.bandwidth_vs_batch(throughput=100)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('batch [seq]', 'required bandwidth [TB/s]')
    """
    import llmphys

    if "batch" in values:
        raise InputError("bandwidth_vs_batch: give the batches to draw as batch=[...] only")
    ax = support.axes(ax)
    inputs = support.Inputs(values, model, hardware, precision)
    batches = support.batches(batch)
    grid = np.unique(np.round(np.geomspace(batches.min(), batches.max(), 128)))
    conservative = inputs.formula("bandwidth_conservative")
    optimistic = inputs.formula("bandwidth_optimistic")
    effective = inputs.formula("effective_bandwidth")
    cons = support.evaluate(conservative, inputs.for_formula(conservative, batch=grid))
    opt = support.evaluate(optimistic, inputs.for_formula(optimistic, batch=grid))
    eff = float(support.evaluate(effective, inputs.for_formula(effective)))
    peak = inputs.value("mem_bandwidth")
    given = inputs.for_formula(conservative)
    given.pop("batch", None)
    inputs.defaulted.discard("batch")
    inputs.check_used()

    shown = readable_unit(Q_(max(peak, float(np.max(cons))), conservative.unit))
    scale = support.factor(conservative.unit, shown)
    no_hits = f"{support.symbol(conservative.name)} conservative (no cache hits)"
    ax.plot(grid, cons * scale, lw=2, label=no_hits)
    ax.plot(grid, opt * scale, lw=2, ls="--", label=f"{support.symbol(optimistic.name)} optimistic")
    peak_q = Q_(peak, effective.unit)
    eff_q = Q_(eff, effective.unit)
    ax.axhline(
        peak * scale,
        color="black",
        lw=1.2,
        label=f"peak {support.symbol('mem_bandwidth')} = {format_quantity(peak_q, sig=4)}",
    )
    ax.axhline(
        eff * scale,
        color="grey",
        lw=1,
        ls=":",
        label=f"effective {support.symbol(effective.name)} = {format_quantity(eff_q, sig=4)}",
    )
    try:
        solution = llmphys.solve(conservative, "batch", target=peak_q, bound="at_most", **given)
    except InfeasibleError:
        solution = None
    if solution is not None and solution.value is not None:
        b = float(solution.value.magnitude)
        if grid.min() <= b <= grid.max():
            ax.axvline(b, color="tab:blue", lw=0.8, ls=":")
            ax.annotate(
                f"{registry.glossary['batch'].text} ≥ {text_number(b, exact=True)} fits the peak",
                (b, peak * scale),
                xytext=(4, 6),
                textcoords="offset points",
                fontsize=8,
                color="tab:blue",
            )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(f"batch [{registry.glossary['batch'].unit_text}]")
    ax.set_ylabel(f"required bandwidth [{shown}]")
    ax.legend(fontsize=8)
    rate = Q_(inputs.value("throughput"), registry.glossary["throughput"].unit)
    support.set_title(ax, f"decode bandwidth at {format_quantity(rate, sig=4)}", inputs)
    return ax
