"""Named sizing questions: each a thin, documented call of :func:`llmphys.solve`.

The questions of one accelerator are here; those of a layout over several (fewest GPUs and
which n_TP x n_PP, largest batch at a layout, the n_TP where communication outweighs the memory
time saved) are in :mod:`llmphys.sizing.layouts`, asked of a :class:`~llmphys.Scenario`.

Every answer is a :class:`~llmphys.engine.solve.Solution` carrying its derivation (the
rearranged formula, the numbers substituted, the rounding and a check), so ``print()`` shows
the work.  Inputs are keyword values as for the formulas themselves; pass ``formula=`` to ask
the question of an architecture's variant (``model.formula("total_vram")``).

Regime boundaries are solves too, never formulas of their own: the batch at which decode
reaches the ridge point (:func:`critical_batch`) and the context at which the KV cache
outweighs the weights (:func:`kv_equals_weights_context`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pint

from llmphys.engine.docs import shared_sections
from llmphys.engine.formula import Formula, registry
from llmphys.engine.solve import Solution, solve
from llmphys.errors import InfeasibleError, InputError
from llmphys.precisions import PRECISIONS

__all__ = [
    "critical_batch",
    "fewest_gpus",
    "fewest_gpus_layout",
    "kv_equals_weights_context",
    "largest_batch",
    "largest_context",
    "least_bandwidth",
    "longest_prompt",
    "most_throughput",
    "smallest_batch_for_bandwidth",
    "weight_precision_that_fits",
]


def _formula(default: str, override: Formula | None) -> Formula:
    return registry[default] if override is None else override


#: what the questions' docstrings share, written in by :func:`_question`
_VALUES = """**values
    The other inputs of the formula, as for a call (quantities, numbers in glossary units,
    precision names)."""
_INFEASIBLE = """Raises
------
InfeasibleError
    No value meets the target (the message says what binds)."""

_Question = TypeVar("_Question", bound=Callable[..., Any])


def _question(default: str) -> Callable[[_Question], _Question]:
    """Complete the docstring of a question that solves ``default`` (or the variant given as
    ``formula=``): the ``formula`` and ``**values`` parameters, and ``{infeasible}``, the
    Raises section of a target no value meets."""
    formula = f"""formula
    The formula to solve instead of ``{default}`` (a variant, e.g. a
    ``Scenario.formula(...)``)."""
    return shared_sections({"formula": formula, "values": _VALUES}, infeasible=_INFEASIBLE)


@_question("total_vram")
def largest_context(
    memory: pint.Quantity, formula: Formula | None = None, **values: Any
) -> Solution:
    """The longest context (tokens per sequence) whose weights, KV cache and workspace fit in
    ``memory``.

    Parameters
    ----------
    memory
        The memory budget (one accelerator's capacity, or several's).
    {params}

    Returns
    -------
    Solution
        The context (``seq_len``, tokens), rounded down to a whole token.

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = largest_context(F.Q_(80, "GB"), params=70e9, bytes_per_param="int4", layers=80,
    ...                     n_kv_heads=8, head_dim=128, kv_bytes="bf16", batch=1,
    ...                     workspace_fraction=0.12)
    >>> print(s.value)
    124511 tok
    """
    return solve(_formula("total_vram", formula), "seq_len", target=memory, **values)


@_question("total_vram")
def largest_batch(memory: pint.Quantity, formula: Formula | None = None, **values: Any) -> Solution:
    """The most sequences whose weights, KV cache and workspace fit in ``memory``.

    Parameters
    ----------
    memory
        The memory budget of the weights, the batch's KV cache and the workspace.
    {params}

    Returns
    -------
    Solution
        The batch (sequences), rounded down.

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = largest_batch(F.Q_(160, "GB"), params=70e9, bytes_per_param="bf16", layers=80,
    ...                   n_kv_heads=8, head_dim=128, kv_bytes="bf16", seq_len=8192,
    ...                   workspace_fraction=0.12)
    >>> print(s.value)
    1 seq
    """
    return solve(_formula("total_vram", formula), "batch", target=memory, **values)


@_question("bandwidth_conservative")
def smallest_batch_for_bandwidth(
    bandwidth: pint.Quantity, formula: Formula | None = None, **values: Any
) -> Solution:
    """The smallest batch whose conservative decode bandwidth stays within ``bandwidth``
    (weights are read once per step and shared by the batch).

    Parameters
    ----------
    bandwidth
        The memory bandwidth the decode may use at the given ``throughput`` (peak times its
        utilization).
    {params}

    Returns
    -------
    Solution
        The batch (sequences), rounded up.

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = smallest_batch_for_bandwidth(F.Q_(2039 * 0.6, "GB/s"), active_params=70e9,
    ...     bytes_per_param="bf16", layers=80, n_kv_heads=64, head_dim=128, kv_bytes="bf16",
    ...     avg_seq_len=10000, throughput=10)
    >>> print(s.value)
    2 seq
    """
    return solve(_formula("bandwidth_conservative", formula), "batch", target=bandwidth, **values)


@_question("memory_per_gpu")
def fewest_gpus(
    gpu_memory: pint.Quantity, formula: Formula | None = None, **values: Any
) -> Solution:
    """The fewest accelerators of ``gpu_memory`` each that hold the model, its KV cache and its
    workspace, split evenly.

    Parameters
    ----------
    gpu_memory
        One accelerator's memory.
    {params}

    Returns
    -------
    Solution
        The number of GPUs (``n_gpus``), rounded up.

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = fewest_gpus(F.Q_(80, "GB"), total_vram=F.Q_(183, "GB"))
    >>> print(s.value)
    3
    """
    return solve(_formula("memory_per_gpu", formula), "n_gpus", target=gpu_memory, **values)


@_question("ttft")
def longest_prompt(ttft: pint.Quantity, formula: Formula | None = None, **values: Any) -> Solution:
    """The longest prompt whose time to first token stays within ``ttft``.

    TTFT is the larger of the prefill's compute time (quadratic in the prompt) and its memory
    time, plus the overhead: the answer is the root in the branch that binds.

    Parameters
    ----------
    ttft
        The time-to-first-token budget.
    {params}

    Returns
    -------
    Solution
        The prompt length (``prompt_len``, tokens), rounded down.

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = longest_prompt(F.Q_(2, "s"), params=70e9, active_params=70e9,
    ...     bytes_per_param="bf16", layers=80, n_heads=64, n_kv_heads=8, head_dim=128,
    ...     kv_bytes="bf16", act_bytes="bf16", hidden=8192, batch=1, causal_factor=0.5,
    ...     flash_attention=1, peak_flops=989e12, utilization=0.4, mem_bandwidth=3.35e12,
    ...     bw_utilization=0.6, overhead=0.08)
    >>> print(s.value, s.method)
    5174 tok numeric
    """
    return solve(_formula("ttft", formula), "prompt_len", target=ttft, **values)


@_question("bandwidth_conservative")
def most_throughput(
    bandwidth: pint.Quantity, formula: Formula | None = None, **values: Any
) -> Solution:
    """The highest decode throughput (tokens/s, all sequences) that ``bandwidth`` sustains.

    Parameters
    ----------
    bandwidth
        The memory bandwidth the decode may use (peak times its utilization).
    {params}

    Returns
    -------
    Solution
        The throughput (tokens/s).

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = most_throughput(F.Q_(2039, "GB/s"), active_params=70e9, bytes_per_param="bf16",
    ...     batch=1, layers=80, n_kv_heads=64, head_dim=128, kv_bytes="bf16", avg_seq_len=10000)
    >>> print(f"{s.value:.3g~P}")
    12.3 tok/s
    """
    return solve(
        _formula("bandwidth_conservative", formula), "throughput", target=bandwidth, **values
    )


@_question("bandwidth_conservative")
def least_bandwidth(
    throughput: pint.Quantity,
    bw_utilization: float,
    formula: Formula | None = None,
    **values: Any,
) -> Solution:
    """The smallest peak memory bandwidth that sustains a decode ``throughput`` when kernels
    reach ``bw_utilization`` of it: the need is ``bandwidth_conservative`` at that throughput,
    and the effective bandwidth must be at least that.

    Parameters
    ----------
    throughput
        The decode throughput to sustain (tokens/s, all sequences).
    bw_utilization
        The fraction of peak bandwidth the kernels reach (0 to 1).
    {params}

    Returns
    -------
    Solution
        The peak memory bandwidth (``mem_bandwidth``).

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = least_bandwidth(F.Q_(10, "token/s"), bw_utilization=0.6, active_params=70e9,
    ...     bytes_per_param="bf16", batch=1, layers=80, n_kv_heads=64, head_dim=128,
    ...     kv_bytes="bf16", avg_seq_len=10000)
    >>> print(f"{s.value.to('TB/s'):.3g~P}")
    2.77 TB/s
    """
    need = _formula("bandwidth_conservative", formula)(throughput=throughput, **values)
    return solve(
        registry["effective_bandwidth"],
        "mem_bandwidth",
        target=need,
        bound="at_least",
        bw_utilization=bw_utilization,
    )


@_question("total_vram")
def weight_precision_that_fits(
    memory: pint.Quantity, formula: Formula | None = None, **values: Any
) -> tuple[Solution, list[str]]:
    """The most bytes per weight that still fit in ``memory``, and the named precisions that
    fit, widest first (the least compression that fits).

    Parameters
    ----------
    memory
        The memory budget of the weights, beside the KV cache and workspace.
    {params}

    Returns
    -------
    tuple
        A :class:`~llmphys.Solution`, the most bytes per weight (``bytes_per_param``) that
        fit, and the names of the precisions of :data:`llmphys.PRECISIONS` at or below it,
        widest first (a list of str).

    Raises
    ------
    InfeasibleError
        Not even the narrowest named precision fits (the message gives the bytes per weight
        that would).

    Examples
    --------
    >>> import llmphys as F
    >>> s, names = weight_precision_that_fits(F.Q_(80, "GB"), params=70e9, layers=80,
    ...     n_kv_heads=8, head_dim=128, kv_bytes="bf16", seq_len=10000, batch=1,
    ...     workspace_fraction=0.12)
    >>> print(f"{s.value:.3g~P}", names)
    0.979 B/param ['int4_g32', 'mxfp4', 'int4_g128', 'int4']
    """
    solution = solve(_formula("total_vram", formula), "bytes_per_param", target=memory, **values)
    limit = float(solution.value.magnitude)
    fits = [
        name for name, size in sorted(PRECISIONS.items(), key=lambda kv: -kv[1]) if size <= limit
    ]
    if not fits:
        raise InfeasibleError(
            f"weight_precision_that_fits: at most {limit:.3g} bytes per weight fit in "
            f"{memory:~P}, less than any named precision ({', '.join(PRECISIONS)})"
        )
    return solution, fits


@_question("arithmetic_intensity")
def critical_batch(
    peak_flops: pint.Quantity | float,
    mem_bandwidth: pint.Quantity | float,
    formula: Formula | None = None,
    **values: Any,
) -> Solution:
    """The smallest batch at which decode's arithmetic intensity reaches the hardware's ridge
    point (peak FLOP rate / bandwidth): below it decode is memory-bound, above it compute-bound.

    A long context can make it unreachable: the KV cache is read per sequence, so it caps the
    intensity however large the batch (the error says so).

    Parameters
    ----------
    peak_flops
        The accelerator's peak FLOP rate (a quantity, or FLOP/s).
    mem_bandwidth
        Its memory bandwidth (a quantity, or B/s).
    {params}

    Returns
    -------
    Solution
        The batch (sequences) at the ridge point, rounded up.

    {infeasible}

    Examples
    --------
    >>> import llmphys as F
    >>> s = critical_batch(989e12, 3.35e12, active_params=70e9, bytes_per_param="bf16",
    ...     layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16", hidden=8192,
    ...     avg_seq_len=1)
    >>> print(s.value)
    296 seq
    """
    ridge = registry["ridge_point"](peak_flops=peak_flops, mem_bandwidth=mem_bandwidth)
    return solve(
        _formula("arithmetic_intensity", formula),
        "batch",
        target=ridge,
        bound="at_least",
        **values,
    )


@_question("kv_cache_bytes")
def kv_equals_weights_context(formula: Formula | None = None, **values: Any) -> Solution:
    """The context length at which the KV cache takes as many bytes as the weights.

    ``values`` holds the inputs of both ``weight_bytes`` (params, bytes_per_param) and the KV
    cache (layers, n_kv_heads, head_dim, kv_bytes, batch).

    Parameters
    ----------
    {params}
    **values
        The inputs of ``weight_bytes`` and of the KV cache.

    Returns
    -------
    Solution
        The context (``seq_len``, tokens) at which the two are equal.

    Raises
    ------
    InputError
        The weight inputs are missing.

    Examples
    --------
    >>> import llmphys as F
    >>> s = kv_equals_weights_context(params=70e9, bytes_per_param="bf16", layers=80,
    ...     n_kv_heads=8, head_dim=128, kv_bytes="bf16", batch=1)
    >>> print(s.value)
    427246 tok
    """
    weights_f = registry["weight_bytes"]
    kv_f = _formula("kv_cache_bytes", formula)
    weight_inputs = {k: v for k, v in values.items() if k in weights_f.input_names}
    kv_inputs = {k: v for k, v in values.items() if k not in weight_inputs}
    if not weight_inputs:
        raise InputError(
            "kv_equals_weights_context: give the weight inputs (params, bytes_per_param) too"
        )
    weights = weights_f(**weight_inputs)
    return solve(kv_f, "seq_len", target=weights, bound="equal", **kv_inputs)


# ----------------------------------------------------------------------- questions of a Scenario
def fewest_gpus_layout(scenario: Any, max_tp: int = 8) -> Any:
    """The fewest GPUs of the scenario's accelerator that hold its model, KV cache and
    workspace, and the layout: the :class:`~llmphys.Scenario` at that n_TP x n_PP.

    The layouts are :func:`llmphys.sizing.layouts.search`'s (per n_TP up to ``max_tp``, the
    fewest pipeline stages whose most loaded GPU holds weights, KV cache and workspace); the
    fewest GPUs win; among equals the larger n_TP (it also lowers per-token latency,
    pipelining does not).  Expert parallelism stays as the scenario has it.

    Parameters
    ----------
    scenario : Scenario
        The deployment (its model, accelerator, precisions and workload).
    max_tp
        The largest tensor-parallel degree tried.

    Returns
    -------
    Scenario
        The deployment at the layout with the fewest GPUs.

    Raises
    ------
    InfeasibleError
        No layout up to ``max_tp`` holds the model.

    Examples
    --------
    >>> import llmphys as F
    >>> best = fewest_gpus_layout(F.Scenario("llama-3.1-70b", "a100-80gb", assumptions="seed",
    ...                                      prompt_len=10000, output_len=0))
    >>> print(best.n_gpus, best.value("tp"), best.value("pp"))
    2 2.0 1.0
    """
    found, _ = layouts.search(scenario, max_tp, need="vram_per_gpu")
    return min(found, key=lambda at: (at.n_gpus, -at.value("tp")))


# the questions of a layout, reachable as llmphys.sizing.layouts
from llmphys.sizing import layouts  # noqa: E402
