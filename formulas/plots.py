"""Plots of inference physics (``llmphys.plots``, matplotlib): every number from a formula.

Each function draws on ``ax`` (a new figure when omitted) and returns the Axes:

:func:`roofline`
    arithmetic intensity vs attainable FLOP rate (``attainable_flops``), the accelerator's
    ridge point (``ridge_point``), and the operating points of decode (``arithmetic_intensity``)
    and prefill (``prefill_intensity``) at the chosen batch.
:func:`memory_breakdown`
    the parts of ``total_vram`` (weights, KV cache, workspace) stacked per accelerator
    (``memory_per_gpu``) against its capacity, in GB with the GiB scale beside it.
:func:`context_frontier`
    the largest context that fits as a function of the batch: ``memory_per_gpu`` solved for
    ``seq_len`` with the capacity as budget, left symbolic in ``batch`` and compiled.
:func:`bandwidth_vs_batch`
    ``bandwidth_conservative`` and ``bandwidth_optimistic`` over the batch, against the
    accelerator's peak and effective (``effective_bandwidth``) bandwidth.

No physics is written here: curves come from the formulas' compiled functions, answers from
:func:`llmphys.solve`; only unit conversions for display happen (pint factors).

Inputs are keyword values as for the formulas (quantities, numbers in glossary units, precision
names).  ``model=`` (a name of ``llmphys.models`` or a Model) and ``hardware=`` (a name of
``llmphys.hardware`` or an Accelerator, computing at ``precision``) make the plot a
:class:`~llmphys.Scenario`'s: its values fill every input (the architecture, the datasheet, the
Scenario's workload and ``typical`` assumptions) and its variants of the formulas are drawn.
Without either, inputs take their glossary defaults (the seed's running example: Llama 3.1
70B, a 10K context, an A100 80GB).  Given values win; the title says which inputs were
defaults.

Not imported by ``import llmphys``: matplotlib is an optional dependency
(``pip install "llmphys[notebooks]"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pint

from llmphys import plot_support as support
from llmphys.engine.coercion import coerce
from llmphys.engine.formatting import format_quantity, readable_unit, text_number
from llmphys.engine.formula import registry
from llmphys.errors import InputError
from llmphys.plot_batch import bandwidth_vs_batch, context_frontier
from llmphys.plot_serving import throughput_frontier
from llmphys.units import Q_

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "bandwidth_vs_batch",
    "context_frontier",
    "memory_breakdown",
    "roofline",
    "throughput_frontier",
]

#: doctest.testmod(plots) runs the examples of the plots it re-exports, too
__test__ = {f.__name__: f for f in (throughput_frontier, context_frontier, bandwidth_vs_batch)}

# --------------------------------------------------------------------------- roofline
@support.documented
def roofline(
    *,
    hardware: Any = None,
    model: Any = None,
    precision: str = "bf16",
    batch: int | Sequence[int] = 1,
    ax: Axes | None = None,
    **values: Any,
) -> Axes:
    """The roofline of an accelerator with decode and prefill placed on it.

    The roof is ``attainable_flops`` over the arithmetic intensity; the dotted line is the
    ridge point (``ridge_point``).  Decode sits at ``arithmetic_intensity`` (one point per
    batch in ``batch``), prefill at ``prefill_intensity`` for the same batch, each at the rate
    the roof allows there.

    Parameters
    ----------
    batch : int or list of int
        The batch, or batches (one decode and one prefill point each).
    {params}

    {drawn}

    Examples
    --------
    >>> from llmphys import plots
    >>> ax = plots.roofline(batch=[1, 64], prompt_len=10000)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('arithmetic intensity [FLOP/B]', 'attainable FLOP rate [TFLOP/s]')
    """
    ax = support.axes(ax)
    inputs = support.Inputs(values, model, hardware, precision)
    batches = support.batches(batch)
    roof = inputs.formula("attainable_flops")
    decode = inputs.formula("arithmetic_intensity")
    prefill = inputs.formula("prefill_intensity")
    prefill_roof = roof.with_parts(arithmetic_intensity=prefill)
    ridge_f = inputs.formula("ridge_point")

    ridge = float(support.evaluate(ridge_f, inputs.for_formula(ridge_f)))
    i_decode = np.atleast_1d(support.evaluate(decode, inputs.for_formula(decode, batch=batches)))
    f_decode = np.atleast_1d(support.evaluate(roof, inputs.for_formula(roof, batch=batches)))
    i_prefill = np.atleast_1d(support.evaluate(prefill, inputs.for_formula(prefill, batch=batches)))
    f_prefill = np.atleast_1d(
        support.evaluate(prefill_roof, inputs.for_formula(prefill_roof, batch=batches))
    )
    points = np.concatenate([i_decode, i_prefill, [ridge]])
    grid = np.geomspace(min(points.min() / 3, ridge / 100), max(points.max() * 3, ridge * 100), 512)
    curve = support.evaluate(roof, inputs.for_formula(roof, arithmetic_intensity=grid))
    inputs.check_used()

    peak = float(np.max(curve))
    shown = readable_unit(Q_(peak, roof.unit))
    scale = support.factor(roof.unit, shown)
    intensity_unit = support.unit_text(decode.unit)

    ax.plot(grid, curve * scale, color="black", lw=2, label=f"roof: {support.symbol(roof.name)}")
    ax.axvline(ridge, color="grey", ls=":", lw=1.2)
    ax.text(
        ridge,
        0.03,
        f" ridge point {support.symbol(ridge_f.name)} = {text_number(ridge)} {intensity_unit}",
        transform=ax.get_xaxis_transform(),
        rotation=90,
        va="bottom",
        ha="right",
        fontsize=8,
        color="dimgrey",
    )
    ax.axvspan(grid[0], ridge, color="tab:blue", alpha=0.05, lw=0)
    ax.text(0.02, 0.97, "memory-bound", transform=ax.transAxes, va="top", fontsize=8)
    ax.text(0.98, 0.03, "compute-bound", transform=ax.transAxes, ha="right", fontsize=8)
    batch_text = registry.glossary["batch"].text
    for label, xs, ys, marker, color in (
        ("decode", i_decode, f_decode, "o", "tab:blue"),
        ("prefill", i_prefill, f_prefill, "s", "tab:red"),
    ):
        ax.scatter(xs, ys * scale, marker=marker, color=color, zorder=3, label=label)
        for text, x, y in _point_labels(batches, xs, ys):
            ax.annotate(
                f"{batch_text} = {text}",
                (x, y * scale),
                xytext=(5, -11),
                textcoords="offset points",
                fontsize=7,
                color=color,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"arithmetic intensity [{intensity_unit}]")
    ax.set_ylabel(f"attainable FLOP rate [{shown}]")
    ax.legend(loc="lower right", bbox_to_anchor=(1, 0.08), fontsize=8)
    title = "roofline"
    if inputs.accelerator is not None:
        title += f" at {precision}"
    support.set_title(ax, title, inputs)
    return ax


def _point_labels(
    batches: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> list[tuple[str, float, float]]:
    """One label per distinct point: batches whose points coincide share a label."""
    groups: list[tuple[list[float], float, float]] = []
    for b, x, y in zip(batches, xs, ys, strict=True):
        for members, gx, gy in groups:
            if np.isclose(x, gx, rtol=0.15) and np.isclose(y, gy, rtol=0.15):
                members.append(b)
                break
        else:
            groups.append(([b], x, y))
    return [
        (", ".join(text_number(b, exact=True) for b in members), x, y) for members, x, y in groups
    ]


# --------------------------------------------------------------------------- memory
def _short(meaning: str) -> str:
    """The start of a formula's meaning: ``Bytes of the KV cache``."""
    return meaning.split(":")[0].split(" (")[0].split(",")[0]


def _swept(values: Mapping[str, Any]) -> tuple[str | None, Any]:
    """The one input given as a list or array (the bars), if any."""
    found = [
        (k, v)
        for k, v in values.items()
        if isinstance(v, (list, tuple, range, np.ndarray))
        or (isinstance(v, pint.Quantity) and np.ndim(v.magnitude) > 0)
    ]
    if len(found) > 1:
        raise InputError(
            f"plot: one input can vary across the bars; got {', '.join(k for k, _ in found)}"
        )
    return found[0] if found else (None, None)


@support.documented
def memory_breakdown(
    *,
    model: Any = None,
    hardware: Any = None,
    precision: str = "bf16",
    ax: Axes | None = None,
    **values: Any,
) -> Axes:
    """Weights, KV cache and workspace (the parts of ``total_vram``) stacked per accelerator
    (``memory_per_gpu``), against one accelerator's capacity (``gpu_memory``).

    One input may be a list (``seq_len=[1000, 10000, 100000]``, ``batch=[1, 8, 32]``): one bar
    per value.  The left axis is in GB (10^9 B), the right one in GiB (2^30 B); the capacity
    line and the totals are labelled in both.

    Parameters
    ----------
    **values
        Any other input of ``memory_per_gpu``; one of them may be a list (one bar each).
    {params}

    {drawn}

    Examples
    --------
    >>> from llmphys import plots
    >>> ax = plots.memory_breakdown(batch=[1, 8], n_gpus=2)
    >>> ax.get_ylabel()
    'memory per GPU [GB]'
    """
    ax = support.axes(ax)
    inputs = support.Inputs(values, model, hardware, precision)
    axis_name, axis_values = _swept(values)
    n_bars = 1
    if axis_name is not None:
        n_bars = len(_as_list(axis_values))
        if axis_name in registry.glossary and any(isinstance(v, str) for v in axis_values):
            entry = registry.glossary[axis_name]  # named precisions: numbers for the formulas
            inputs.values[axis_name] = np.array(
                [coerce(entry, v, f"plot input '{axis_name}'") for v in axis_values]
            )
    total = inputs.formula("total_vram")
    per_gpu = inputs.formula("memory_per_gpu")
    parts = [p for p in total.parts.values() if p.overridable]
    segments = []
    for part in parts:
        own = support.evaluate(part.formula, inputs.for_formula(part.formula))
        raw = np.broadcast_to(own, n_bars)
        share = support.evaluate(
            per_gpu, inputs.for_formula(per_gpu, total_vram=Q_(raw, part.formula.unit))
        )
        segments.append((part.formula, np.broadcast_to(share, n_bars)))
    capacity = inputs.value("gpu_memory")
    n_gpus = inputs.value("n_gpus")
    inputs.check_used()

    gb = support.factor(per_gpu.unit, "GB")
    x = np.arange(n_bars)
    bottom = np.zeros(n_bars)
    for i, (f, share) in enumerate(segments):
        label = f"{support.mathtext(f.entry.latex, f.entry.text)} {_short(f.meaning)}"
        ax.bar(x, share * gb, bottom=bottom, color=f"C{i}", label=label, width=0.6)
        bottom = bottom + share * gb
    cap = Q_(capacity, registry.glossary["gpu_memory"].unit)
    cap_text = f"{format_quantity(cap, sig=4)} = {format_quantity(cap, sig=4, binary=True)}"
    name = f"capacity {support.symbol('gpu_memory')}"
    if inputs.accelerator is not None:
        label = getattr(inputs.accelerator, "capacity_label", None)
        shown = getattr(inputs.accelerator, "display_name", "")
        name = f'{shown} ("{label:~P}")' if label is not None else shown
    ax.axhline(
        float(cap.to("GB").magnitude), color="black", ls="--", lw=1.2, label=f"{name}: {cap_text}"
    )
    for xi, height in zip(x, bottom, strict=True):
        q = Q_(height / gb, per_gpu.unit)
        ax.annotate(
            f"{format_quantity(q)}\n{format_quantity(q, binary=True)}",
            (xi, height),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    if axis_name is None:
        ax.set_xticks(x, [inputs.model_name() or total.name])
    else:
        entry = registry.glossary[axis_name]
        ax.set_xticks(x, [f"{entry.text} = {_label_of(v)}" for v in _as_list(axis_values)])
        ax.set_xlabel(f"{entry.text} [{entry.unit_text}]" if entry.unit_text else entry.text)
    ax.set_ylim(0, max(float(bottom.max()), float(cap.to("GB").magnitude)) * 1.25)
    ax.set_ylabel("memory per GPU [GB]" if n_gpus != 1 else "memory [GB]")
    to_gib = support.factor("GB", "GiB")
    right = ax.secondary_yaxis("right", functions=(lambda v: v * to_gib, lambda v: v / to_gib))
    right.set_ylabel("[GiB]")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8)
    gpus = f" on {text_number(n_gpus, exact=True)} GPUs" if n_gpus != 1 else ""
    support.set_title(ax, f"memory breakdown{gpus}", inputs)
    return ax


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, pint.Quantity):
        return [Q_(m, value.units) for m in np.atleast_1d(value.magnitude)]
    return list(value)


def _label_of(value: Any) -> str:
    if isinstance(value, pint.Quantity):
        return f"{value:~P}"
    if isinstance(value, str):
        return value
    return text_number(float(value), exact=True)
