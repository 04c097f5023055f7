"""Design-space search (``llmphys.search``): every combination of models, accelerators,
precisions, layouts, batches and workloads through the compiled formulas, chunked on Dask, and
the Pareto set of two objectives among the points that fit and that the model can take.

The numeric axes (``tp``, ``pp``, ``ep``, ``batch``, ``prompt_len``, ``output_len``) form a grid
evaluated lazily, one chunk of points at a time (``chunk_points``), so a space of 10^9 points is
never allocated: each chunk computes its figures, its constraints and its own Pareto set, and
only those small sets travel back.  The named axes (``models``, ``hardware``, ``weights``,
``kv``) make one grid each.  Dask's threads run it by default; give a ``dask.distributed``
``client`` to run it on a cluster (workers rebuild the scenario from its names, so nothing
but names and numbers is shipped).  Dask is imported only here: ``import llmphys`` stays light.

Memory: each chunk holds about 8 bytes per point for each figure and constraint, plus the
formulas' intermediates (a few times that): 2^18 points take tens of MB.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.pareto import pareto_front
from llmphys.sizing.layouts import layouts_allowed

__all__ = ["SearchResult", "search"]

#: design points per Dask chunk unless told: about 30 MB of figures per chunk
CHUNK_POINTS = 2**18

#: the numeric axes, in grid order (output_len is the scenario's new_tokens)
AXES = ("tp", "pp", "ep", "batch", "prompt_len", "output_len")
_INPUT = {"output_len": "new_tokens"}
#: figures every point carries beside the objectives
BASE = ("memory_per_gpu", "gpu_count", "tokens_per_second_per_user", "tokens_per_second_per_gpu")
#: the constraints a point must meet, each a boolean variable of the dataset
CONSTRAINTS = ("fits_memory", "valid_layout")


@dataclass(frozen=True)
class SearchResult:
    """The lazy grids (``data``: one :class:`xarray.Dataset` per model, accelerator and
    precision, dask-backed), the Pareto set of the objectives among feasible points
    (``pareto``, a DataFrame), and the size of the space (``points``)."""

    data: Mapping[tuple[str, str, str, str], Any]
    pareto: Any
    objectives: tuple[tuple[str, str], ...]
    points: int
    chunk_points: int


def search(
    *,
    models: str | Mapping[str, Any] | Sequence[str | Mapping[str, Any]],
    hardware: str | Sequence[str],
    weights: str | Sequence[str | None] | None = None,
    kv: str | Sequence[str] = "bf16",
    tp: Iterable[int] = (1,),
    pp: Iterable[int] = (1,),
    ep: Iterable[int] = (1,),
    batch: Iterable[int] = (1,),
    prompt_len: Iterable[int] = (4096,),
    output_len: Iterable[int] = (1024,),
    objectives: Sequence[tuple[str, str]] = (
        ("cost_per_million_tokens", "min"),
        ("tokens_per_second_per_user", "max"),
    ),
    client: Any = None,
    chunk_points: int = CHUNK_POINTS,
    **values: float,
) -> SearchResult:
    """Every combination of the axes through the scenario's compiled formulas, on Dask; the
    Pareto set of two ``objectives`` (each ``(figure, "min" | "max")``) among the points that
    fit in memory and whose layout the model can take.

    ``models`` are preset names or config.json dicts; ``hardware`` preset names; ``weights``
    and ``kv`` precision names (``None``: as released); ``values`` any other input, as a number
    in its glossary unit (``price_per_gpu_hour=2`` is $2 per GPU-hour).

    Parameters
    ----------
    models : str, dict or list
        Model preset names or ``config.json`` dicts (one, or a list).
    hardware : str or list of str
        Accelerator preset names.
    weights : str or list of str
        Precision names of the weights (``None``: as released).
    kv : str or list of str
        Precision names of the KV cache.
    tp : iterable of int
        Tensor-parallel degrees.
    pp : iterable of int
        Pipeline-parallel degrees.
    ep : iterable of int
        Expert-parallel degrees.
    batch : iterable of int
        Concurrent sequences.
    prompt_len : iterable of int
        Prompt lengths, in tokens.
    output_len : iterable of int
        Output lengths, in tokens.
    objectives : sequence of tuple
        The two figures the Pareto set trades off, each ``(figure, "min" or "max")``.
    client : dask.distributed.Client, optional
        A Dask cluster to compute on (default: threads on this machine).
    chunk_points
        Grid points per Dask chunk.
    **values
        Any other input, as a number in its glossary unit.

    Returns
    -------
    SearchResult
        The lazy grids, the Pareto set and the number of points.

    Raises
    ------
    InputError
        Not two objectives, a bad chunk size, or an axis a model cannot take.

    Examples
    --------
    >>> import llmphys as F
    >>> found = F.search(models="llama-3.1-8b", hardware=["h100-sxm", "a100-80gb"],
    ...                  batch=[1, 8, 64], price_per_gpu_hour=2)
    >>> found.points
    6
    >>> list(found.pareto["hardware"])
    ['h100-sxm', 'h100-sxm', 'h100-sxm']
    """
    import dask

    if len(objectives) != 2 or any(d not in ("min", "max") for _, d in objectives):
        raise InputError(
            "search: give two objectives, each (figure, 'min' or 'max'), e.g. "
            "(('cost_per_million_tokens', 'min'), ('tokens_per_second_per_user', 'max'))"
        )
    if not (isinstance(chunk_points, int) and chunk_points >= 1):
        raise InputError(
            f"search: chunk_points must be a positive whole number; got {chunk_points!r}"
        )
    grid = {
        name: _axis(name, value)
        for name, value in zip(AXES, (tp, pp, ep, batch, prompt_len, output_len), strict=True)
    }
    figures = tuple(dict.fromkeys([*BASE, *(f for f, _ in objectives)]))
    specs = [
        _Spec(_model_key(m), h, w, k, tuple(sorted((n, float(v)) for n, v in values.items())))
        for m, h, w, k in itertools.product(
            _many(models), _many(hardware), _many(weights), _many(kv)
        )
    ]
    for spec in specs:  # fail here, with the reason, not on a worker
        _prepared(spec, figures)
    data = {}
    tasks = []
    for spec in specs:
        stacked = _lazy(spec, figures, grid, chunk_points)
        data[spec.label] = _dataset(stacked, figures, grid)
        tasks += [dask.delayed(_block_pareto)(block, spec, figures, objectives)
                  for block in stacked.to_delayed().ravel()]  # fmt: skip
    if client is not None:
        found = client.gather(client.compute(tasks))
    else:
        found = dask.compute(*tasks, scheduler="threads")
    import pandas as pd

    frames = [f for f in found if len(f)]
    merged = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    pareto = _pareto(merged, objectives) if len(merged) else merged
    points = len(specs) * int(np.prod([len(v) for v in grid.values()]))
    return SearchResult(data, pareto, tuple(objectives), points, chunk_points)


# ----------------------------------------------------------------------------- the pieces
@dataclass(frozen=True)
class _Spec:
    """A scenario by names and numbers only: what a worker rebuilds it from."""

    model: str
    hardware: str
    weights: str | None
    kv: str
    values: tuple[tuple[str, float], ...]

    @property
    def label(self) -> tuple[str, str, str, str]:
        name = self.model if not self.model.startswith("{") else _config_name(self.model)
        return (name, self.hardware, self.weights or "as released", self.kv)


def _config_name(text: str) -> str:
    config = json.loads(text)
    return str(config.get("_name_or_path") or config.get("model_type") or "config")


def _model_key(model: Any) -> str:
    if isinstance(model, str):
        return model
    if isinstance(model, Mapping):
        return json.dumps(dict(model), sort_keys=True)
    raise InputError(
        "search: models are preset names or config.json dicts (a worker rebuilds each from "
        f"its name or its fields); got {type(model).__name__}"
    )


def _many(value: Any) -> list[Any]:
    if value is None or isinstance(value, (str, Mapping)):
        return [value]
    items = list(value)
    if not items:
        raise InputError("search: an axis of models, hardware or precisions has no values")
    return items


def _axis(name: str, value: Iterable[int]) -> np.ndarray:
    array = np.atleast_1d(
        np.asarray(list(value) if not np.isscalar(value) else [value], dtype=float)
    )
    if array.size == 0:
        raise InputError(f"search: the axis {name!r} has no values")
    if (
        not np.all(np.isfinite(array))
        or np.any(array < (0 if name == "output_len" else 1))
        or np.any(array != np.round(array))
    ):
        raise InputError(
            f"search: {name} takes whole numbers of at least {0 if name == 'output_len' else 1}; "
            f"got {array.tolist()[:8]}"
        )
    return array


@functools.lru_cache(maxsize=64)
def _prepared(spec: _Spec, figures: tuple[str, ...]) -> tuple[Any, float, Any, np.ndarray]:
    """The scenario's compiled figures over the numeric axes, its capacity, its model and the
    tensor-parallel degrees the model allows (built once per process)."""
    import llmphys
    from llmphys.scenario_report import figure_functions
    from llmphys.sizing.layouts import tensor_parallel_degrees

    model: Any = spec.model
    if model.startswith("{"):
        model = llmphys.load_hf_config(json.loads(model))
    elif model not in llmphys.models:
        raise UnknownNameError(
            f"search: unknown model {model!r}{did_you_mean(model, llmphys.models)}", model
        )
    s = llmphys.Scenario(model=model, hardware=spec.hardware, weights=spec.weights, kv=spec.kv,
                         **dict(spec.values))  # fmt: skip
    axes = [_INPUT.get(a, a) for a in AXES]
    evaluate, _ = figure_functions(s, figures, axes, where="search")
    degrees = np.asarray(tensor_parallel_degrees(s.model, 1024), dtype=float)
    return evaluate, float(s.capacity.to("byte").magnitude), s.model, degrees


def _lazy(
    spec: _Spec, figures: tuple[str, ...], grid: Mapping[str, np.ndarray], chunk_points: int
) -> Any:
    """A dask array over the grid, one trailing entry per figure and constraint, chunked so
    that a chunk holds about ``chunk_points`` points."""
    import dask.array as da

    shape = tuple(len(v) for v in grid.values())
    chunks = _chunks(shape, chunk_points)
    template = da.empty(shape, chunks=chunks, dtype=float)
    width = len(figures) + len(CONSTRAINTS) + len(AXES)
    coords = tuple(grid.values())

    def block(_: np.ndarray, block_info: Any = None) -> np.ndarray:
        where = block_info[0]["array-location"]  # the grid's own axes
        slices = [c[a:b] for c, (a, b) in zip(coords, where, strict=True)]
        return _evaluate_block(spec, figures, slices)

    return da.map_blocks(block, template, dtype=float, new_axis=len(shape),
                         chunks=(*template.chunks, (width,)))  # fmt: skip


def _chunks(shape: tuple[int, ...], chunk_points: int) -> tuple[int, ...]:
    """Chunk sizes per axis, filling the last (fastest) axes first, about ``chunk_points``."""
    left = chunk_points
    sizes = [1] * len(shape)
    for i in range(len(shape) - 1, -1, -1):
        sizes[i] = max(1, min(shape[i], left))
        left = max(1, left // sizes[i])
    return tuple(sizes)


def _evaluate_block(
    spec: _Spec, figures: tuple[str, ...], slices: Sequence[np.ndarray]
) -> np.ndarray:
    evaluate, capacity, model, degrees = _prepared(spec, figures)
    grids = np.meshgrid(*slices, indexing="ij")
    arrays = {_INPUT.get(a, a): g for a, g in zip(AXES, grids, strict=True)}
    with np.errstate(all="ignore"):
        results = evaluate(arrays)
    shape = grids[0].shape
    out = np.empty((*shape, len(figures) + len(CONSTRAINTS) + len(AXES)))
    for i, name in enumerate(figures):
        out[..., i] = np.broadcast_to(np.asarray(results[name], dtype=float), shape)
    memory = out[..., figures.index("memory_per_gpu")]
    out[..., len(figures)] = np.isfinite(memory) & (memory <= capacity)
    out[..., len(figures) + 1] = layouts_allowed(
        model, arrays["tp"], arrays["pp"], arrays["ep"], degrees
    )
    for j, g in enumerate(grids):  # the point's coordinates, for the Pareto set
        out[..., len(figures) + len(CONSTRAINTS) + j] = g
    return out


def _dataset(stacked: Any, figures: tuple[str, ...], grid: Mapping[str, np.ndarray]) -> Any:
    import xarray as xr

    dims = list(grid)
    data = {name: (dims, stacked[..., i]) for i, name in enumerate(figures)}
    for j, name in enumerate(CONSTRAINTS):
        data[name] = (dims, stacked[..., len(figures) + j].astype(bool))
    return xr.Dataset(data, coords={n: (n, v) for n, v in grid.items()})


def _block_pareto(block: np.ndarray, spec: _Spec, figures: tuple[str, ...],
                  objectives: Sequence[tuple[str, str]]) -> Any:  # fmt: skip
    """The Pareto set of one chunk's feasible points, with their coordinates."""
    import pandas as pd

    flat = block.reshape(-1, block.shape[-1])
    feasible = (flat[:, len(figures)] > 0) & (flat[:, len(figures) + 1] > 0)
    feasible &= np.isfinite(flat[:, : len(figures)]).all(axis=1)
    frame = pd.DataFrame(flat[feasible, : len(figures)], columns=list(figures))
    at = flat[feasible, len(figures) + len(CONSTRAINTS) :]
    for j, axis in enumerate(AXES):
        frame.insert(j, axis, at[:, j].astype(int))
    if frame.empty:
        return frame
    return _pareto(frame, objectives).assign(
        model=spec.label[0], hardware=spec.hardware, weights=spec.label[2], kv=spec.kv
    )


def _pareto(frame: Any, objectives: Sequence[tuple[str, str]]) -> Any:
    return pareto_front(frame, objectives).reset_index(drop=True)
