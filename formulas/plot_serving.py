"""Serving plots (``llmphys.plots.throughput_frontier``, matplotlib): a deployment's
throughput against its interactivity, from a :class:`~llmphys.serving.Frontier`.

Every number comes from the frontier's points (:func:`llmphys.frontier`); this module only
draws them.  Re-exported by :mod:`llmphys.plots`, whose helpers it shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmphys import plot_support as support

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["throughput_frontier"]


def throughput_frontier(front: Any, ax: Axes | None = None) -> Axes:
    """Decode tokens/s per GPU against tokens/s per user for every curve of a
    :class:`~llmphys.serving.Frontier` (one per layout or precision, its points by batch), on
    log axes as public serving benchmarks draw them; points that do not fit in memory are left
    off each curve, and the Pareto set is drawn over them.

    Parameters
    ----------
    front : Frontier
        :func:`llmphys.frontier`'s result.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on (default: a new figure's).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import llmphys as F
    >>> from llmphys import plots
    >>> s = F.Scenario(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4)
    >>> ax = plots.throughput_frontier(F.frontier(s, over=("batch", "tp")))
    >>> ax.get_xscale(), ax.get_yscale()
    ('log', 'log')
    """
    ax = support.axes(ax)
    points = front.points
    groups = [a for a in front.axes if a != "batch"]
    curves = points.groupby(groups, sort=True) if groups else [((), points)]
    for key, curve in curves:
        fit = curve[curve["fits"]].sort_values("batch")
        if fit.empty:
            continue
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{a}={v}" for a, v in zip(groups, key, strict=True)) or "batch"
        ax.plot(fit["tokens_per_second_per_user"], fit["tokens_per_second_per_gpu"],
                marker="o", markersize=3, label=label)  # fmt: skip
        last = fit.iloc[-1]
        ax.annotate(f"B={last['batch']:.0f}", (last["tokens_per_second_per_user"],
                    last["tokens_per_second_per_gpu"]), fontsize=7)  # fmt: skip
    best = front.pareto
    ax.plot(best["tokens_per_second_per_user"], best["tokens_per_second_per_gpu"],
            color="black", linewidth=2, alpha=0.4, label="Pareto set")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("decode tokens/s per user (interactivity)")
    ax.set_ylabel("decode tokens/s per GPU (throughput)")
    s = front.scenario
    ax.set_title(f"{s.model.display_name} on {s.hardware.display_name}: the frontier over "
                 f"{', '.join(front.axes)} (points that fit in memory)", fontsize=9)  # fmt: skip
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    return ax
