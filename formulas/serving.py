"""The throughput / interactivity frontier of a deployment (``llmphys.frontier``).

What serving benchmarks publish is not one number but a curve: decode tokens per second per
GPU (what the hardware earns) against tokens per second per user (what each user sees), one
point per batch size, one curve per layout.  A larger batch shares each weight read among more
sequences (more tokens per GPU) but makes every step longer (fewer tokens per user), until the
memory no longer holds the batch's KV cache.

:func:`frontier` evaluates a :class:`~llmphys.Scenario` over a grid (the batch, and any layout
or precision choices) with the compiled formulas (``Scenario.sweep``), marks which points fit
in memory, and keeps the Pareto set: the points no other fitting point beats on both axes.  Its
questions: the most tokens per GPU at a floor of tokens per user (:meth:`Frontier.best_at`),
and the fewest GPUs for an aggregate throughput at that floor (:meth:`Frontier.fewest_gpus`).
Costs follow from the same points (``cost_per_million_tokens``: per GPU-hour over tokens per
GPU).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from llmphys.errors import InfeasibleError, InputError, UnknownNameError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from llmphys.scenario import Scenario

__all__ = ["FIGURES", "Frontier", "frontier"]

#: the figures of each design point
FIGURES = (
    "tokens_per_second_per_user",
    "tokens_per_second_per_gpu",
    "memory_per_gpu",
    "gpu_count",
)
#: choices a Scenario makes by name (swept by rebuilding it), with their default grids
CHOICES: dict[str, tuple[Any, ...]] = {
    "weights": ("bf16", "fp8", "int4"),
    "kv": ("bf16", "fp8"),
    "hardware": (),
    "model": (),
}
#: numeric axes and their default grids: powers of two
NUMBERS: dict[str, tuple[int, ...]] = {
    "batch": tuple(2**i for i in range(13)),
    "tp": (1, 2, 4, 8),
    "pp": (1, 2, 4),
    "ep": (1, 2, 4, 8),
}


@dataclass(frozen=True)
class Frontier:
    """Every design point of a sweep (``points``: one row each, with whether it ``fits``) and
    the Pareto set of the points that fit (``pareto``)."""

    scenario: Scenario
    points: pd.DataFrame
    axes: tuple[str, ...]

    @property
    def pareto(self) -> pd.DataFrame:
        """The fitting points no other fitting point beats on both tokens per second per user
        and per GPU, by decreasing tokens per user."""
        from llmphys.pareto import pareto_front

        fit = self.points[self.points["fits"]]
        return pareto_front(
            fit, [("tokens_per_second_per_user", "max"), ("tokens_per_second_per_gpu", "max")]
        )

    def fitting(self) -> pd.DataFrame:
        """The points that fit in memory.

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`points` that fit.

        Raises
        ------
        InfeasibleError
            No point fits (every one needs more than one GPU's capacity).
        """
        fitting = self.points[self.points["fits"]]
        if fitting.empty:
            raise InfeasibleError(
                "frontier: no point fits in memory (each needs more than one GPU's capacity); "
                "add GPUs (a larger tp) or lower the precision"
            )
        return fitting

    def best_at(self, tokens_per_user: float) -> pd.Series:
        """The fitting point with the most tokens per second per GPU among those giving each
        user at least ``tokens_per_user`` tokens per second (the largest useful batch).

        Parameters
        ----------
        tokens_per_user
            The floor on decode tokens per second per user.

        Returns
        -------
        pandas.Series
            The point's row of :attr:`points`.

        Raises
        ------
        InfeasibleError
            No fitting point reaches the floor (the message gives the most any does).
        """
        if not (math.isfinite(tokens_per_user) and tokens_per_user > 0):
            raise InputError(
                f"frontier: the floor of tokens/s per user must be a positive number; got "
                f"{tokens_per_user:g}"
            )
        fitting = self.fitting()
        fast = fitting[fitting["tokens_per_second_per_user"] >= tokens_per_user]
        if fast.empty:
            top = fitting["tokens_per_second_per_user"].max()
            raise InfeasibleError(
                f"frontier: no point that fits gives {tokens_per_user:g} tok/s per user "
                f"(the most any does is {top:.4g}); lower the floor or widen the axes"
            )
        return fast.loc[fast["tokens_per_second_per_gpu"].idxmax()]

    def fewest_gpus(self, throughput: float, tokens_per_user: float) -> pd.Series:
        """The point needing the fewest GPUs in all for an aggregate decode ``throughput``
        (tokens/s) at ``tokens_per_user`` per user: replicas of a layout, each at its batch.

        Parameters
        ----------
        throughput
            The aggregate decode rate to serve (tokens per second, all users).
        tokens_per_user
            The floor on decode tokens per second per user.

        Returns
        -------
        pandas.Series
            The point's row, with ``replicas`` and ``total_gpus`` added.

        Raises
        ------
        InfeasibleError
            No fitting point reaches the floor.
        """
        fast = self.points[
            self.points["fits"] & (self.points["tokens_per_second_per_user"] >= tokens_per_user)
        ].copy()
        if fast.empty:
            raise InfeasibleError(
                f"frontier: no point that fits gives {tokens_per_user:g} tok/s per user"
            )
        replica = fast["tokens_per_second_per_gpu"] * fast["gpu_count"]
        fast["replicas"] = np.ceil(throughput / replica)
        fast["total_gpus"] = fast["replicas"] * fast["gpu_count"]
        return fast.sort_values(["total_gpus", "batch"]).iloc[0]

    def __str__(self) -> str:
        columns = [*(a for a in self.axes if a != "batch"), "batch",
                   "tokens_per_second_per_user", "tokens_per_second_per_gpu"]  # fmt: skip
        return self.pareto[columns].to_string(index=False)

    def _repr_html_(self) -> str:
        return self.pareto._repr_html_()


def frontier(
    scenario: Scenario,
    over: Iterable[str] | Mapping[str, Sequence[Any]] = ("batch",),
) -> Frontier:
    """The throughput / interactivity frontier of ``scenario`` over the axes ``over``.

    ``over`` names the axes (``("batch", "tp", "weights")``, each on its default grid: batches
    1 to 4,096 and layouts by powers of two, the usual weight precisions) or maps each to its
    values (``{"batch": [1, 8, 64], "tp": [2, 4]}``; ``None``: its default grid).  The batch
    is always an axis.  Numeric axes (batch, tp, pp, ep, prompt_len, output_len, ...) are swept
    with the compiled formulas; named choices (weights, kv, hardware, model) rebuild the
    scenario for each value.  Layouts the model cannot take (n_TP not dividing its heads, more
    pipeline stages than layers, experts without experts: ``layouts_allowed``) are left out.

    Parameters
    ----------
    scenario
        The deployment whose inputs the axes vary.
    over : iterable of str, or mapping of str to values
        The axes: names (each on its default grid) or name -> values (``None``: its default
        grid).

    Returns
    -------
    Frontier
        Every point (``.points``, with ``fits``) and the Pareto set (``.pareto``).

    Raises
    ------
    InputError, UnknownNameError
        An axis with no values, no default grid, or no layout the model can take.

    Examples
    --------
    >>> import llmphys as F
    >>> s = F.Scenario(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4)
    >>> f = F.frontier(s, over={"batch": [1, 16, 256]})
    >>> [round(x) for x in f.points["tokens_per_second_per_gpu"]]
    [19, 261, 1250]
    >>> list(f.points["fits"])  # 256 sequences of 5K tokens do not fit beside the weights
    [True, True, False]
    """
    grids = _grids(over)
    if "batch" not in grids:
        grids = {"batch": NUMBERS["batch"], **grids}
    choices = {k: v for k, v in grids.items() if k in CHOICES}
    numbers = {k: v for k, v in grids.items() if k not in CHOICES}
    import pandas as pd

    frames = []
    for combo in itertools.product(*choices.values()) if choices else [()]:
        picked = dict(zip(choices, combo, strict=True))
        s = scenario.replace(**picked) if picked else scenario
        frames.append(_points(s, numbers, picked))
    points = pd.concat(frames, ignore_index=True)
    return Frontier(scenario, points, tuple(grids))


def _grids(over: Iterable[str] | Mapping[str, Sequence[Any]]) -> dict[str, tuple[Any, ...]]:
    if isinstance(over, str):
        over = (over,)
    if not isinstance(over, Mapping):
        over = dict.fromkeys(over)  # every axis on its default grid
    grids: dict[str, tuple[Any, ...]] = {}
    for name, values in over.items():
        if values is not None:
            grids[name] = (
                tuple(values) if name in CHOICES else tuple(np.atleast_1d(values).tolist())
            )
        else:
            if name in NUMBERS:
                grids[name] = NUMBERS[name]
            elif CHOICES.get(name):
                grids[name] = CHOICES[name]
            elif name in CHOICES:
                raise InputError(
                    f"frontier: give the {name} to compare, e.g. over={{'{name}': [...]}}"
                )
            else:
                raise UnknownNameError(
                    f"frontier: no default grid for {name!r}"
                    f"{did_you_mean(name, [*NUMBERS, *CHOICES])}; give its values, e.g. "
                    f"over={{'{name}': [...]}}",
                    name,
                )
    for name, values in grids.items():
        if not values:
            raise InputError(f"frontier: the axis {name!r} has no values")
        if name in NUMBERS:  # each value as the input takes it (tp=0 is no layout)
            from llmphys.engine import glossary
            from llmphys.engine.coercion import coerce

            coerce(glossary[name], np.asarray(values, dtype=float), f"frontier over {name}")
    return grids


def _points(s: Scenario, numbers: Mapping[str, Sequence[Any]], picked: Mapping[str, Any],
            figures: Sequence[str] = FIGURES) -> Any:  # fmt: skip
    """One row per point of the numeric grid of ``s`` (layouts the model cannot take left
    out) with ``figures`` (``memory_per_gpu`` and ``gpu_count`` among them), and the choices
    ``picked`` as columns."""
    import pandas as pd

    from llmphys.sizing.layouts import layouts_allowed

    axes = {k: np.asarray(v, dtype=float) for k, v in numbers.items()}
    layout = [k for k in ("tp", "pp", "ep") if k in axes]
    if layout:  # keep the layouts this model can take
        combos = list(itertools.product(*(axes[k] for k in layout)))
        degrees = {k: [c[i] for c in combos] for i, k in enumerate(layout)}
        allowed = layouts_allowed(s.model, degrees.get("tp", s.value("tp")),
                                  degrees.get("pp", s.value("pp")),
                                  degrees.get("ep", s.value("ep")))  # fmt: skip
        valid = [c for c, ok in zip(combos, np.atleast_1d(allowed), strict=True) if ok]
        if not valid:  # say why, as the Scenario would for the first of them
            from llmphys.scenario_inputs import check_layout

            first = {k: s.value(k) for k in ("tp", "pp", "ep")}
            first.update(zip(layout, combos[0], strict=True))
            why = ""
            try:
                check_layout(s.model, first, s.values())
            except InputError as exc:
                why = ": " + str(exc).split(": ", 1)[-1]
            raise InputError(
                f"frontier: {s.model.display_name} takes none of the layouts over "
                f"{', '.join(layout)}{why}"
            )
    rows = []
    combos = valid if layout else [()]
    for combo in combos:
        fixed = dict(zip(layout, combo, strict=True))
        sweep_axes = {k: v for k, v in axes.items() if k not in layout}
        sub = s.replace(**{k: int(v) for k, v in fixed.items()}) if fixed else s
        data = sub.sweep(*figures, **sweep_axes)
        capacity = sub.capacity.to("byte").magnitude
        frame = data.to_dataframe().reset_index()
        for k, v in fixed.items():
            frame[k] = int(v)
        frame["fits"] = frame["memory_per_gpu"] <= capacity
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    from llmphys.engine import glossary
    from llmphys.scenario_inputs import glossary_name

    for name in numbers:  # whole numbers read as such (batch 8, not 8.0)
        column = glossary_name(name)
        if column in glossary and glossary[column].integer and column in out:
            out[column] = out[column].astype(int)
    out["gpu_count"] = out["gpu_count"].astype(int)
    for k, v in picked.items():
        out[k] = v if isinstance(v, str) else getattr(v, "name", str(v))
    if "output_len" in out:
        out = out.rename(columns={"new_tokens": "output_len"})
    return out
