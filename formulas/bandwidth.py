"""Bandwidth: bytes moved per decoded token and the memory bandwidth a throughput needs
(seed: Bandwidth Bottleneck (Decode Phase))."""

from __future__ import annotations

from llmphys import compute, memory  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula

__all__ = [
    "arithmetic_intensity",
    "bandwidth_conservative",
    "bandwidth_optimistic",
    "bytes_per_token",
    "effective_bandwidth",
    "kv_read",
    "kv_traffic",
    "kv_write",
    "ridge_point",
    "weight_read",
]

#: the seed's section that both the bytes per token and the bandwidth come from
_CONSERVATIVE = "seed: Bandwidth Bottleneck / Total Bandwidth (Conservative)"


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{w}}",
    source="seed: Bandwidth Bottleneck / Weight Streaming",
)
def weight_read(active_weight_bytes, batch):
    """Weight bytes read per decoded token: the active weights, read once per step, shared by
    the batch.

    Notes
    -----
    - Conservative: no cache hits, every active weight comes from HBM each decode step.
    - A decode step produces one token for each of the B sequences, so the read is amortized
      over B tokens.
    - Seed example (70B BF16): 140 GB per token at batch 1, 17.5 GB at batch 8.

    Examples
    --------
    >>> print(weight_read(active_params=70e9, bytes_per_param="bf16", batch=8).to("GB/token"))
    17.5 GB/tok
    """
    return active_weight_bytes / batch


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,r}}",
    source="seed: Bandwidth Bottleneck / KV Cache Streaming (read existing KV)",
)
def kv_read(kv_bytes_per_token, avg_seq_len):
    """KV-cache bytes read per decoded token: the sequence's whole cached context.

    Notes
    -----
    - The new token's query attends to every cached key and value of its own sequence.
    - Not amortized by the batch: each sequence has its own cache.
    - Seed example (70B BF16, MHA figures, 10K context): 26.2 GB per token.

    Examples
    --------
    >>> q = kv_read(layers=80, n_kv_heads=64, head_dim=128, kv_bytes="bf16", avg_seq_len=10000)
    >>> print(f"{q.to('GB/token'):.3g~P}")
    26.2 GB/tok
    """
    return kv_bytes_per_token * avg_seq_len


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,w}}",
    source="seed: Bandwidth Bottleneck / KV Cache Streaming (write new KV)",
)
def kv_write(kv_bytes_per_token):
    """KV-cache bytes written per decoded token: the new token's K and V.

    Notes
    -----
    - Seed example (70B BF16, MHA figures): 2.6 MB per token, negligible next to the read.

    Examples
    --------
    >>> q = kv_write(layers=80, n_kv_heads=64, head_dim=128, kv_bytes="bf16")
    >>> print(f"{q.to('MB/token'):.3g~P}")
    2.62 MB/tok
    """
    return kv_bytes_per_token


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV}}",
    source="seed: Formula Summary / Bandwidth (KV read + KV write)",
)
def kv_traffic(kv_read, kv_write):
    """KV-cache bytes moved per decoded token: the context read plus the new entry written.

    Examples
    --------
    >>> print(kv_traffic(kv_read=26e9, kv_write=2.6e6).to("GB/token"))
    26.0026 GB/tok
    """
    return kv_read + kv_write


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{tok}}",
    source=_CONSERVATIVE,
)
def bytes_per_token(weight_read, kv_traffic):
    """HBM bytes moved per decoded token, conservatively (no cache hits): weights plus KV.

    Notes
    -----
    - Seed example (70B, 10K context, batch 1): 140 + 26 = 166 GB per token.

    Examples
    --------
    >>> print(bytes_per_token(weight_read=140e9, kv_traffic=26e9).to("GB/token"))
    166.0 GB/tok
    """
    return weight_read + kv_traffic


@formula(
    unit="byte/second",
    latex=r"\mathit{BW}_{\mathrm{cons}}",
    source=_CONSERVATIVE,
)
def bandwidth_conservative(bytes_per_token, throughput):
    """Memory bandwidth needed for a decode throughput, with no cache hits.

    Notes
    -----
    - Decode must read the active weights and the KV cache for every step: it is memory-bound.
    - Seed example (70B, 10K context, batch 1, 10 tok/s): 166 GB x 10 = 1,660 GB/s, close to
      an A100's 2,039 GB/s, which could do about 12 tok/s.

    Examples
    --------
    >>> print(bandwidth_conservative(bytes_per_token=166e9, throughput=10).to("GB/s"))
    1660.0 GB/s
    """
    return bytes_per_token * throughput


@formula(
    unit="byte/second",
    latex=r"\mathit{BW}_{\mathrm{opt}}",
    source="seed: Bandwidth Bottleneck / Optimistic Bandwidth",
)
def bandwidth_optimistic(weight_read, cache_hit, kv_traffic, throughput):
    """Memory bandwidth needed for a decode throughput when on-chip caches serve a fraction of
    the weight reads.

    Notes
    -----
    - The seed assumes 80 % of weight reads hit L2/L3 cache (h = 0.8), so only 20 % of the
      weights stream from HBM.
    - GPU L2 caches hold 40-80 MB, far less than the weights; the assumption stands for weight
      reuse across a batch and framework locality, and is optimistic at batch 1.
    - Seed example (70B, 10K context, batch 1, 10 tok/s): 28 + 26 = 54 GB, 540 GB/s.

    Examples
    --------
    >>> q = bandwidth_optimistic(weight_read=140e9, cache_hit=0.8, kv_traffic=26e9,
    ...                          throughput=10)
    >>> print(f"{q.to('GB/s'):.3g~P}")
    540 GB/s
    """
    return ((1 - cache_hit) * weight_read + kv_traffic) * throughput


@formula(
    unit="FLOP/byte",
    latex=r"I",
    source="seed: Bandwidth Bottleneck / Why Decode is Memory-Bound (arithmetic intensity)",
)
def arithmetic_intensity(decode_flops, bytes_per_token):
    """Arithmetic intensity of decoding: FLOPs per byte moved from memory.

    Notes
    -----
    - Decode does about 2 FLOP per weight and reads 2 bytes per BF16 weight: about 1 FLOP per
      byte at batch 1, where dense training matmuls reach 100-1000.
    - An accelerator needs its ridge point (peak FLOP rate / bandwidth, about 150 FLOP/byte on
      an A100) to keep its compute busy: below it, compute sits idle waiting for memory.
    - Batching raises it: the weights are read once per step for B tokens.

    Examples
    --------
    >>> print(arithmetic_intensity(decode_flops=140e9, bytes_per_token=140e9))
    1.0 FLOP/B
    """
    return decode_flops / bytes_per_token


@formula(
    unit="byte/second",
    latex=r"\mathit{BW}_{\mathrm{eff}}",
    source="seed: Validation Examples (A100: 2,039 GB/s x 0.6 util = 1,223 GB/s)",
)
def effective_bandwidth(mem_bandwidth, bw_utilization):
    """Effective memory bandwidth: the peak bandwidth times the achieved fraction (MBU).

    Examples
    --------
    >>> print(f"{effective_bandwidth(mem_bandwidth=2039e9, bw_utilization=0.6).to('GB/s'):.4g~P}")
    1223 GB/s
    """
    return mem_bandwidth * bw_utilization


@formula(
    unit="FLOP/byte",
    latex=r"I_{\mathrm{ridge}}",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009); seed: Why Decode is "
    "Memory-Bound (GPU compute sits idle waiting for memory)",
)
def ridge_point(peak_flops, mem_bandwidth):
    """Ridge point of the roofline: the arithmetic intensity at which compute and memory take
    the same time.

    Notes
    -----
    - Below it a kernel is memory-bound (bytes limit it), above it compute-bound.
    - Per precision: the peak FLOP rate depends on it (H100 SXM: 989 TFLOPS BF16, 1,979 FP8)
      while the bandwidth does not.
    - The batch at which decode reaches it is a solve of ``arithmetic_intensity``, not a
      formula of its own.

    Examples
    --------
    >>> print(f"{ridge_point(peak_flops=989e12, mem_bandwidth=3.35e12):.4g~P}")
    295.2 FLOP/B
    """
    return peak_flops / mem_bandwidth
