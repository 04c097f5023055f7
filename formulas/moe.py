"""Mixture of experts: memory from the total parameters, compute from the active ones,
bandwidth in between (seed: MoE (Mixture of Experts))."""

from __future__ import annotations

from llmphys import bandwidth, compute, memory, moe_params  # noqa: F401  (parts below)
from llmphys.engine import formula

__all__ = [
    "dense_flop_rate",
    "experts_touched",
    "extra_expert_read",
    "extra_experts_touched",
    "moe_weight_read",
    "weight_read_moe",
]

#: uniform top-k routing: the probability that one token leaves a given expert out is 1 - k/E
UNIFORM_ROUTING = (
    "uniform top-k routing: each token picks k of E experts, so an expert is missed by B "
    "tokens with probability (1 - k/E)^B (the balanced routing MoE training aims for: "
    "Fedus et al., Switch Transformers, JMLR 2022, auxiliary load-balancing loss)"
)


@formula(
    unit="FLOP/second",
    latex=r"F_{\mathrm{dense}}",
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
    unit="",
    latex=r"E_{+}",
    source=UNIFORM_ROUTING,
)
def extra_experts_touched(n_experts, experts_per_token, batch):
    """Routed experts a decode step's B tokens reach in one mixture-of-experts layer beyond the
    k of one token, expected under uniform routing.

    Notes
    -----
    - Fix one token's k experts; each of the other E - k is missed by the B - 1 other tokens
      with probability (1 - k/E)^(B - 1).  Exactly 0 at B = 1, E - k for a large batch.
    - Written this way (not as E_touched - k) so that batch 1 gives 0, not a rounding residue.
      As E grows, E_+ tends to k (B - 1): every token's experts are new.

    Examples
    --------
    >>> print(f"{extra_experts_touched(n_experts=8, experts_per_token=2, batch=8):.4f~P}")
    5.1991
    """
    return (n_experts - experts_per_token) * (
        1 - (1 - experts_per_token / n_experts) ** (batch - 1)
    )


@formula(
    unit="",
    latex=r"E_{\mathrm{touched}}",
    source=UNIFORM_ROUTING,
)
def experts_touched(experts_per_token, extra_experts_touched):
    """Distinct routed experts a decode step's B tokens reach in one mixture-of-experts layer,
    expected under uniform routing.

    Notes
    -----
    - Each token goes to k of the E experts; an expert stays idle only if all B tokens miss it,
      with probability (1 - k/E)^B.  So E (1 - (1 - k/E)^B) = k + E_+: k at B = 1, close to E
      soon after.
    - Mixtral-8x7B (E = 8, k = 2): 2 at B = 1, 7.199 at B = 8, 7.9992 at B = 32.  At B = 8 a
      decode step reads 90 % of the expert weights, not the 25 % one token uses.
    - Real routing is skewed (some experts are hot), which reaches fewer distinct experts:
      uniform routing is the most a batch can touch on average, so the bytes it gives are
      the most a step reads.  DeepSeek-V3 (E = 256, k = 8) touches 222 experts at B = 64.

    Examples
    --------
    >>> print(f"{experts_touched(n_experts=8, experts_per_token=2, batch=8):.4f~P}")
    7.1991
    """
    return experts_per_token + extra_experts_touched


@formula(
    unit="byte",
    latex=r"D_{\mathrm{w,extra}}",
    source=f"{UNIFORM_ROUTING}; seed: MoE / Resource Implications / Bandwidth (Between)",
)
def extra_expert_read(moe_layers, extra_experts_touched, expert_params, bytes_per_param):
    """Expert-weight bytes a decode step reads beyond one token's experts: the experts the rest
    of the batch reaches, in every mixture-of-experts layer.

    Notes
    -----
    - E_+ = E_touched - k more experts per layer, each P_e parameters (its gate, up and down
      projections), at the weights' precision.  Zero at batch 1.

    Examples
    --------
    >>> q = extra_expert_read(moe_layers=32, n_experts=8, experts_per_token=2, batch=8,
    ...                       hidden=4096, moe_intermediate_size=14336, bytes_per_param="bf16")
    >>> print(f"{q.to('GB'):.4g~P}")
    58.62 GB
    """
    return moe_layers * extra_experts_touched * expert_params * bytes_per_param


@formula(
    unit="byte",
    latex=r"D_{\mathrm{w,MoE}}",
    source=f"seed: MoE / Resource Implications / Bandwidth (Between); {UNIFORM_ROUTING}",
)
def moe_weight_read(active_weight_bytes, extra_expert_read):
    """Weight bytes one decode step of a mixture of experts reads: the weights one token uses
    plus the other experts its batch reaches.

    Notes
    -----
    - The seed puts it "between active_bytes (if cached) and total_bytes (if cold)"; the batch
      decides where: the active bytes at batch 1, nearly every expert soon after
      (``experts_touched``).
    - Mixtral-8x7B in BF16: 25.5 GB at batch 1, 84.1 GB at batch 8, of its 93.4 GB.

    Examples
    --------
    >>> q = moe_weight_read(active_params=12748853248, moe_layers=32, n_experts=8,
    ...     experts_per_token=2, batch=8, hidden=4096, moe_intermediate_size=14336,
    ...     bytes_per_param="bf16")
    >>> print(f"{q.to('GB'):.4g~P}")
    84.11 GB
    """
    return active_weight_bytes + extra_expert_read


@formula(
    unit="byte/token",
    latex=r"D_{w}^{\mathrm{MoE}}",
    source="seed: Bandwidth Bottleneck (weight_bytes / batch), with the experts a batch reaches",
    replaces="weight_read",
    feature="moe",
)
def weight_read_moe(moe_weight_read, batch):
    """Weight bytes read per generated token of a mixture of experts: what the step reads,
    shared by the batch's tokens.

    Notes
    -----
    - Replaces ``weight_read`` for a mixture of experts.  The dense rule (the active bytes once
      per step) would let a batch of B share weights it never reads: at batch 8 Mixtral's step
      reads 3.3x the active bytes.

    Examples
    --------
    >>> q = weight_read_moe(active_params=12748853248, moe_layers=32, n_experts=8,
    ...     experts_per_token=2, batch=8, hidden=4096, moe_intermediate_size=14336,
    ...     bytes_per_param="bf16")
    >>> print(f"{q.to('GB/token'):.4g~P}")
    10.51 GB/tok
    """
    return moe_weight_read / batch
