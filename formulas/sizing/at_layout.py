"""Questions of one layout (re-exported by :mod:`llmphys.sizing.layouts`): the most sequences
it holds (:func:`largest_batch`) and the tensor-parallel degree beyond which its communication
outweighs the memory time it saves (:func:`tp_comm_limit`)."""

from __future__ import annotations

from typing import Any

from llmphys.engine.solve import Solution
from llmphys.sizing.asked import _documented, _scenario
from llmphys.units import Q_

__all__ = ["largest_batch", "tp_comm_limit"]


@_documented
def largest_batch(
    model: Any, gpu: Any, *, tp: int, pp: int = 1, ep: int = 1, **values: Any
) -> Solution:
    """The most sequences an n_TP x n_PP layout of ``model`` holds on ``gpu``: ``solve`` of
    ``vram_per_gpu`` for ``batch`` at one GPU's capacity.

    {params}

    Returns
    -------
    Solution
        The batch (sequences), rounded down.

    Raises
    ------
    InfeasibleError
        Not even one sequence fits.

    Examples
    --------
    Llama 3.1 70B in BF16 with 32K-token contexts on 8x H100 (n_TP = 8): 19.8 GB of weights and
    workspace per GPU leave 65.8 GB for 1.34 GB of KV cache per sequence (one KV head per GPU).

    >>> s = largest_batch("llama-3.1-70b", "h100-sxm", tp=8, bytes_per_param="bf16",
    ...                   kv_bytes="bf16", seq_len=32768, workspace_fraction=0.12)
    >>> print(s.value, s.direction, s.rounding)
    48 seq largest floor
    """
    at = _scenario(model, gpu, tp=tp, pp=pp, ep=ep, **values)
    return at.solve("batch", at.capacity.to("byte"), of="vram_per_gpu")


@_documented
def tp_comm_limit(
    model: Any,
    gpu: Any,
    link: Any,
    *,
    precision: str = "bf16",
    pp: int = 1,
    ep: int = 1,
    **values: Any,
) -> Solution:
    """The largest n_TP at which a decode step's exposed communication stays within its per-GPU
    memory time: beyond it, communication outweighs the memory time tensor parallelism still
    saves (``comm_to_memory_ratio`` solved for ``tp`` at 1).

    ``link`` is an interconnect preset; ``precision`` picks the accelerator's dense peak.  The
    answer is a continuous degree rounded down; real degrees divide the heads
    (:func:`~llmphys.sizing.layouts.tensor_parallel_degrees`).

    {params}

    Returns
    -------
    Solution
        The degree (``tp``), rounded down.

    Examples
    --------
    Llama 3.1 70B decoding one sequence on H100s over NVLink 4: each all-reduce costs
    2 (n_TP - 1) hops of 0.6 us, 160 of them per token, against 41.5 ms / n_TP of weight reads:
    the two cross near n_TP = 15.

    >>> s = tp_comm_limit("llama-3.1-70b", "h100-sxm", "nvlink-4", bytes_per_param="bf16",
    ...                   kv_bytes="bf16", act_bytes="bf16", batch=1, prompt_len=1000,
    ...                   new_tokens=200, n_microbatches=1, bw_utilization=1, comm_overlap=0)
    >>> print(s.value, s.method)
    15 numeric
    """
    at = _scenario(model, gpu, link, precision, pp=pp, ep=ep, **values)
    return at.solve("tp", Q_(1, ""), of="comm_to_memory_ratio", bound="at_most")
