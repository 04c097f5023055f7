"""Multi-GPU sizing questions: each a thin call of :func:`llmphys.solve` on the parallel formulas.

* :func:`layout`: what one GPU of a given n_TP x n_PP layout needs, and whether it fits;
* :func:`fewest_gpus`: the fewest GPUs, and which n_TP x n_PP, that hold a model, its KV cache
  and workspace.  For each tensor-parallel degree the model allows, ``solve`` gives the fewest
  pipeline stages of an even split (the closed form where there is one, a bracketed root
  otherwise); an uneven split (ceil(L / n_PP) layers on the most loaded stage) is then checked
  stage count by stage count;
* :func:`largest_batch`: the most sequences a layout holds (a solve for ``batch``);
* :func:`tp_comm_limit`: the n_TP beyond which the communication of a decode step outweighs its
  per-GPU memory time (a solve of ``comm_to_memory_ratio`` for ``tp``).

Each question is asked of a :class:`~llmphys.Scenario` (the one place inputs are resolved):
models, accelerators and interconnects are presets (``llmphys.models``, ``llmphys.hardware``,
``llmphys.interconnects``) or their names; every other input is a keyword value, as for the
formulas, winning over the scenario's defaults (the ``typical`` assumptions). Expert
parallelism stays inside the tensor-parallel group (n_EP = 1: each GPU then holds 1 / n_TP of
the experts, as with n_EP = n_TP) unless ``ep`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pint

from llmphys.engine.formatting import format_quantity
from llmphys.engine.solve import Solution
from llmphys.errors import InfeasibleError
from llmphys.sizing.asked import _documented, _scenario
from llmphys.sizing.at_layout import largest_batch, tp_comm_limit

__all__ = [
    "FewestGpus",
    "Layout",
    "decode_throughput",
    "fewest_gpus",
    "largest_batch",
    "layout",
    "search",
    "tensor_parallel_degrees",
    "tp_comm_limit",
]

#: the parts of ``vram_per_gpu`` shown beside it
_PARTS = ("weights_per_gpu", "kv_cache_per_gpu", "workspace_per_gpu")

@_documented
def tensor_parallel_degrees(model: Any, max_tp: int = 8) -> list[int]:
    """The tensor-parallel degrees a model allows, up to ``max_tp``: n_TP must divide the query
    heads, and either divide the KV heads or be a multiple of them (a KV head is then
    replicated).  MLA has no KV heads to divide.  A Mamba layer splits by its heads (Mamba-2)
    or channels (Mamba-1): an attention-free model takes n_TP dividing those.

    {params}

    Returns
    -------
    list of int
        The allowed degrees, ascending.

    Examples
    --------
    >>> import llmphys as F
    >>> tensor_parallel_degrees(F.models["llama-3.1-70b"], max_tp=16)
    [1, 2, 4, 8, 16]
    """
    import llmphys

    m = llmphys.models[model] if isinstance(model, str) else model
    if m.attention == "none":
        split = int(m.values.get("ssm_heads", m.values["ssm_inner"]))
        return [t for t in range(1, max_tp + 1) if split % t == 0]
    n_heads = int(m.values["n_heads"])
    n_kv = None if m.attention == "MLA" else int(m.values["n_kv_heads"])
    return [
        t
        for t in range(1, max_tp + 1)
        if n_heads % t == 0 and (n_kv is None or n_kv % t == 0 or t % n_kv == 0)
    ]


def layouts_allowed(
    model: Any, tp: Any, pp: Any = 1, ep: Any = 1, degrees: Sequence[int] | None = None
) -> np.ndarray:
    """Where the layout degrees (numbers or arrays, broadcast) are ones ``model`` can take:
    n_TP one of :func:`tensor_parallel_degrees` (``degrees``, computed when not given), each
    relation between a degree and the model's sizes (n_PP <= layers, n_EP <= experts, ...),
    and expert parallelism only with experts, whole ones on each GPU.

    >>> import llmphys as F
    >>> layouts_allowed(F.models["llama-3.1-70b"], tp=[2, 3, 128], pp=[1, 1, 200]).tolist()
    [True, False, False]
    """
    from llmphys.engine.relations import RELATIONS

    tp, pp, ep = (np.asarray(x, dtype=float) for x in (tp, pp, ep))
    if degrees is None:
        degrees = tensor_parallel_degrees(model, int(np.max(tp)))
    values = model.values
    degree = {"tp": tp, "pp": pp, "ep": ep}
    ok = np.isin(tp, np.asarray(degrees, dtype=float))
    for rel in RELATIONS:
        if rel.smaller in degree and rel.larger in values:
            ok = ok & (degree[rel.smaller] <= values[rel.larger])
    if "n_experts" not in values:
        ok = ok & (ep == 1)  # expert parallelism needs experts
    else:  # whole experts on each GPU, as Scenario's check_layout asks
        ok = ok & (np.mod(values["n_experts"], ep) == 0)
    return np.broadcast_to(ok, np.broadcast_shapes(tp.shape, pp.shape, ep.shape))


# ----------------------------------------------------------------------------- one layout
@dataclass(frozen=True)
class Layout:
    """One GPU of an n_TP x n_PP (x n_EP) layout: what it needs against what it holds."""

    model: str
    accelerator: str
    tp: int
    pp: int
    ep: int
    n_gpus: int
    layers_per_stage: int
    capacity: pint.Quantity
    need: pint.Quantity
    parts: dict[str, pint.Quantity] = field(default_factory=dict)

    @property
    def fits(self) -> bool:
        """True when one GPU's need is within its capacity."""
        return bool(self.need <= self.capacity)

    @property
    def headroom(self) -> pint.Quantity:
        """Capacity left on each GPU (negative when it does not fit)."""
        return (self.capacity - self.need).to("GB")

    def __str__(self) -> str:
        parts = " + ".join(f"{format_quantity(q.to('GB'), sig=4)}" for q in self.parts.values())
        verdict = "fits" if self.fits else "does not fit"
        return (
            f"{self.model} on {self.n_gpus} x {self.accelerator} (n_TP = {self.tp}, n_PP = "
            f"{self.pp}, n_EP = {self.ep}; {self.layers_per_stage} layers on the largest "
            f"stage):\n  {format_quantity(self.need.to('GB'), sig=4)} per GPU"
            + (f" ({parts})" if len(self.parts) > 1 else "")
            + f" against {format_quantity(self.capacity.to('GB'), sig=4)}: {verdict}"
        )


@_documented
def layout(
    model: Any,
    gpu: Any,
    *,
    tp: int,
    pp: int = 1,
    ep: int = 1,
    need: str = "vram_per_gpu",
    **values: Any,
) -> Layout:
    """What one GPU of the n_TP x n_PP layout of ``model`` on ``gpu`` needs, and whether it fits.

    An uneven pipeline split loads the largest stage with ceil(L / n_PP) layers.

    {params}

    Returns
    -------
    Layout
        One GPU's need, its parts and capacity, and whether it fits (``.fits``).

    Examples
    --------
    The seed's DeepSeek-V3 example: 1,342 GB of BF16 weights against 8x H100 "= 640 GB (too
    small!)": one GPU of 8-way tensor parallelism would need 169 GB.

    >>> s = layout("deepseek-v3", "h100-sxm", tp=8, need="weights_per_gpu",
    ...            bytes_per_param="bf16")
    >>> print(s)
    DeepSeek-V3 on 8 x h100-sxm (n_TP = 8, n_PP = 1, n_EP = 1; 61 layers on the largest stage):
      169.4 GB per GPU against 85.52 GB: does not fit
    """
    return _layout_of(_scenario(model, gpu, tp=tp, pp=pp, ep=ep, **values), need)


def _layout_of(at: Any, need: str) -> Layout:
    """What one GPU of the scenario ``at``'s layout needs (``need``), and its parts."""
    names = _PARTS if need == "vram_per_gpu" else (need,)
    return Layout(
        model=at.model.display_name,
        accelerator=at.hardware.name,
        tp=round(at.value("tp")),
        pp=round(at.value("pp")),
        ep=round(at.value("ep")),
        n_gpus=at.n_gpus,
        layers_per_stage=at.stage_layers,
        capacity=at.capacity.to("GB"),
        need=at.evaluate(need).to("GB"),
        parts={name: at.evaluate(name).to("GB") for name in names},
    )


@_documented
def decode_throughput(
    model: Any,
    gpu: Any,
    link: Any,
    *,
    tp: int,
    pp: int = 1,
    ep: int = 1,
    precision: str = "bf16",
    **values: Any,
) -> pint.Quantity:
    """Decode throughput (tokens/s, all sequences) of an n_TP x n_PP layout of ``model`` on
    ``gpu`` GPUs joined by ``link``: ``decode_throughput_parallel`` with the presets' values.

    ``precision`` picks the accelerator's dense peak; ``values`` holds the setting (precisions,
    batch, prompt and output lengths, utilizations, micro-batches, overlap, the assumption
    set).  Under ``assumptions="ideal"`` with ``comm_overlap=1`` it is the per-GPU roofline
    bound; ``comm_overlap=0`` adds every all-reduce and send to the step, and the default
    ``typical`` set the efficiency model's fixed costs.

    {params}

    Returns
    -------
    Quantity
        Tokens per second, all sequences.

    Examples
    --------
    PyTorch gpt-fast's Llama-3.1-70B at n_TP = 8 on A100s: the per-GPU roofline bound and the
    same with NVLink 3 communication (its measured 58.78 tok/s is below both).

    >>> kw = dict(tp=8, bytes_per_param="bf16", kv_bytes="bf16", act_bytes="bf16", batch=1,
    ...           prompt_len=5, new_tokens=200, n_microbatches=1, assumptions="ideal")
    >>> bound = decode_throughput("llama-3.1-70b", "a100-80gb", "nvlink-3", comm_overlap=1, **kw)
    >>> with_comm = decode_throughput("llama-3.1-70b", "a100-80gb", "nvlink-3", comm_overlap=0,
    ...                               **kw)
    >>> print(f"{bound:.4g~P}, {with_comm:.4g~P}")
    117.3 tok/s, 101.2 tok/s
    """
    at = _scenario(model, gpu, link, precision, tp=tp, pp=pp, ep=ep, **values)
    return at.evaluate("decode_throughput_parallel").to("token/second")


# ----------------------------------------------------------------------------- fewest GPUs
@dataclass(frozen=True)
class FewestGpus:
    """The fewest GPUs that hold a model, the layout, and the best layout per n_TP."""

    best: Layout
    candidates: tuple[Layout, ...]
    solutions: dict[int, Solution]
    assumptions: str

    @property
    def n_gpus(self) -> int:
        return self.best.n_gpus

    @property
    def tp(self) -> int:
        return self.best.tp

    @property
    def pp(self) -> int:
        return self.best.pp

    def __str__(self) -> str:
        b = self.best
        lines = [
            f"fewest {b.accelerator} for {b.model}: {b.n_gpus} (n_TP = {b.tp} x n_PP = {b.pp})",
            f"  {self.assumptions}",
            "  n_TP  n_PP (even split, solved)  n_PP (whole layers)  GPUs  per GPU",
        ]
        for c in self.candidates:
            solved = self.solutions.get(c.tp)
            exact = f"{solved.exact.magnitude:.3f}" if solved is not None else "-"
            lines.append(
                f"  {c.tp:>4}  {exact:>25}  {c.pp:>19}  {c.n_gpus:>4}  "
                f"{format_quantity(c.need.to('GB'), sig=4)}"
            )
        return "\n".join(lines)


@_documented
def search(
    base: Any, max_tp: int = 8, need: str = "vram_per_gpu"
) -> tuple[list[Any], dict[int, Solution]]:
    """For every n_TP the model allows up to ``max_tp``, the scenario ``base`` at the fewest
    pipeline stages whose GPUs hold ``need``: ``solve`` gives the fewest stages of an even split
    (the closed form where there is one), whole layers per stage may need one more.

    Parameters
    ----------
    {params}
    base : Scenario
        The deployment whose layout is searched.

    Returns
    -------
    tuple
        The deployment at each n_TP's fewest stages (a list of :class:`~llmphys.Scenario`),
        and the solved (even-split) stages per n_TP (a dict of int to
        :class:`~llmphys.Solution`).

    Raises
    ------
    InfeasibleError
        No layout fits, even at one layer per stage (the message says by how much).
    """
    layers = int(base.model.values["layers"])
    capacity = base.capacity.to("byte")
    degrees = tensor_parallel_degrees(base.model, max_tp)
    found: list[Any] = []
    solutions: dict[int, Solution] = {}
    for tp in degrees:
        try:
            solved = base.replace(tp=tp, pp=1).solve("pp", capacity, of=need)
        except InfeasibleError:
            continue  # no number of stages fits at this n_TP
        solutions[tp] = solved
        for pp in range(max(1, int(solved.magnitude)), layers + 1):
            at = base.replace(tp=tp, pp=pp)
            if at.evaluate(need) <= capacity:
                found.append(at)
                break
    if not found:
        widest = base.replace(tp=max(degrees), pp=layers)
        raise InfeasibleError(
            f"fewest_gpus: no layout of {base.model.display_name} with n_TP <= {max_tp} fits "
            f"on {base.hardware.name}: even one layer per stage at n_TP = {max(degrees)} needs "
            f"{format_quantity(widest.evaluate(need).to('GB'), sig=4)} per GPU, more than "
            f"{format_quantity(capacity.to('GB'), sig=4)}. Raise max_tp, or lower the "
            "precision, context or batch"
        )
    return found, solutions


@_documented
def fewest_gpus(
    model: Any,
    gpu: Any,
    *,
    max_tp: int = 8,
    ep: int = 1,
    need: str = "vram_per_gpu",
    **values: Any,
) -> FewestGpus:
    """The fewest GPUs of ``gpu`` (and which n_TP x n_PP) that hold ``model``, its KV cache and
    workspace for the setting in ``values`` (precisions, context, batch, workspace fraction).

    For every n_TP the model allows up to ``max_tp`` (one NVLink domain is 8), ``solve`` gives
    the fewest pipeline stages of an even split; whole layers per stage may need one more
    stage.  The fewest GPUs win; among equals, the larger n_TP (pipelining does not lower
    per-token latency, tensor parallelism does).

    {params}

    Returns
    -------
    FewestGpus
        The best layout (``.n_gpus``, ``.tp``, ``.pp``) and the best per n_TP.

    Raises
    ------
    InfeasibleError
        No layout up to ``max_tp`` fits.

    Examples
    --------
    The seed's Llama 3.1 70B, BF16 weights only: "Fits on: 2x A100 80GB".

    >>> s = fewest_gpus("llama-3.1-70b", "a100-80gb", need="weights_per_gpu",
    ...                 bytes_per_param="bf16")
    >>> print(s.n_gpus, s.tp, s.pp)
    2 2 1
    """
    found, solutions = search(_scenario(model, gpu, ep=ep, **values), max_tp, need)
    candidates = [_layout_of(at, need) for at in found]
    best = min(candidates, key=lambda c: (c.n_gpus, -c.tp))
    shown = ", ".join(f"{k} = {v}" for k, v in values.items())
    what = "weights only" if need == "weights_per_gpu" else "weights + KV cache + workspace"
    return FewestGpus(
        best=best,
        candidates=tuple(candidates),
        solutions=solutions,
        assumptions=f"{what}; {shown}; n_EP = {ep}; n_TP <= {max_tp}",
    )
