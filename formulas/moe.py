"""Mixture of experts: memory from the total parameters, compute from the active ones,
bandwidth in between (seed: MoE (Mixture of Experts))."""

from __future__ import annotations

from llmphys import compute, memory  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula

__all__ = ["dense_flop_rate", "moe_weight_read"]


@formula(
    unit="FLOP/second",
    latex=r"F_{\mathrm{dense}}",
    text="F_dense",
    source="seed: MoE / Resource Implications / Compute (Active Params)",
)
def dense_flop_rate(dense_flops, throughput):
    """FLOP rate of the weight matmuls at a decode throughput (attention excluded).

    Notes
    -----
    - Only the routed-in experts compute: the rate follows the *active* parameters.
    - Seed example, DeepSeek-V3 (37B active) at 10 tok/s: 0.74 TFLOP/s, 5x less than a dense
      70B model (1.4 TFLOP/s).
    - Memory still follows the total (``weight_bytes`` at 671B: 1,342 GB in BF16).

    Examples
    --------
    >>> print(dense_flop_rate(active_params=37e9, throughput=10).to("TFLOPS"))
    0.74 TFLOPS
    """
    return dense_flops.at(tokens=1) * throughput


@formula(
    unit="byte",
    latex=r"D_{\mathrm{w,MoE}}",
    text="D_w,MoE",
    source="seed: MoE / Resource Implications / Bandwidth (Between)",
)
def moe_weight_read(active_weight_bytes, weight_bytes, cold_fraction):
    """Expert-weight bytes read per decode step: the active weights plus a fraction of the rest.

    Notes
    -----
    - Between the active bytes (f_cold = 0: the same experts serve every token of the step)
      and the total bytes (f_cold = 1: the batch's tokens route to every expert); written as
      a weighted mean of the two so that no difference of large numbers loses digits.
    - Depends on the routing pattern, cache hits and expert reuse across the batch.

    Examples
    --------
    >>> q = moe_weight_read(params=671e9, active_params=37e9, bytes_per_param="bf16",
    ...                     cold_fraction=0)
    >>> print(q.to("GB"))
    74.0 GB
    """
    return (1 - cold_fraction) * active_weight_bytes + cold_fraction * weight_bytes
