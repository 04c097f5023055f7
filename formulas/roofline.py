"""Roofline: the FLOP rate a phase can reach on an accelerator, and prefill's arithmetic
intensity (Williams, Waterman & Patterson, "Roofline", CACM 2009; seed: Bandwidth Bottleneck /
Why Decode is Memory-Bound).

Decode's intensity is ``arithmetic_intensity`` and the ridge point ``ridge_point`` (both in
``bandwidth``); here are the roof itself and the intensity of a prefill pass, so that both
phases can be placed on the same roofline.
"""

from __future__ import annotations

import sympy

from llmphys import bandwidth, compute, latency  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula

__all__ = ["attainable_flops", "prefill_intensity"]

_ROOFLINE = (
    "Williams, Waterman & Patterson, 'Roofline: an insightful visual performance model for "
    "multicore architectures' (CACM 52(4), 2009)"
)


@formula(
    unit="FLOP/second",
    latex=r"F_{\mathrm{att}}",
    source=f"{_ROOFLINE}; seed: Bandwidth Bottleneck / Why Decode is Memory-Bound",
)
def attainable_flops(peak_flops, mem_bandwidth, arithmetic_intensity):
    """Attainable FLOP rate on the roofline: the peak FLOP rate, or the memory bandwidth times
    the arithmetic intensity, whichever is lower.

    Notes
    -----
    - Below the ridge point (I < F_peak / BW) memory feeds too few bytes to keep the compute
      busy: the rate is I x BW and grows with the intensity.  Above it, the compute is the
      limit.
    - The intensity is decode's by default (``arithmetic_intensity``: about 1 FLOP/byte at
      batch 1); give ``arithmetic_intensity=`` directly to read the roof at any intensity, or
      use ``attainable_flops.with_parts(arithmetic_intensity=prefill_intensity)`` for prefill.
    - Peaks, not achieved rates: real kernels reach a fraction of either roof (utilization,
      bandwidth utilization).
    - Seed example: decode of Llama 3.1 70B at batch 1 (1 FLOP/byte) on an A100
      (2,039 GB/s, 312 TFLOPS) can use at most 2.04 TFLOP/s, under 1 % of the peak.

    Examples
    --------
    >>> q = attainable_flops(peak_flops=312e12, mem_bandwidth=2.039e12, arithmetic_intensity=1)
    >>> print(f"{q.to('TFLOPS'):.4g~P}")
    2.039 TFLOPS
    >>> q = attainable_flops(peak_flops=312e12, mem_bandwidth=2.039e12, arithmetic_intensity=1e4)
    >>> print(f"{q.to('TFLOPS'):.4g~P}")
    312 TFLOPS
    """
    return sympy.Min(peak_flops, arithmetic_intensity * mem_bandwidth, evaluate=False)


@formula(
    unit="FLOP/byte",
    latex=r"I_{\mathrm{prefill}}",
    source=f"{_ROOFLINE}; seed: Transformer Forward Pass / Total Prefill FLOPs; Austin et al., "
    "'How to Scale Your Model' (2025), ch. Inference (prefill is compute-bound)",
)
def prefill_intensity(batch, prefill_flops, prefill_bytes):
    """Arithmetic intensity of a prefill step: its FLOPs (B prompts) per byte it moves.

    Notes
    -----
    - The step reads every weight once for the whole batch and writes each prompt token's K and
      V (``prefill_bytes``), while every prompt token meets every weight: about S_p x B FLOP
      per 2 bytes of a BF16 weight, thousands of FLOP per byte for real prompts.  That is far
      above any accelerator's ridge point: prefill is compute-bound, decode memory-bound.
    - Standard (unfused) attention also moves the S_p x S_p scores through HBM, which lowers
      the intensity of long prompts; FlashAttention removes that traffic.
    - Seed example (Llama 3.1 70B, 10K prompt, MHA figures, batch 1, FlashAttention):
      1.66e15 FLOP over 140 GB + 26.2 GB = 10,000 FLOP/byte, 65x an A100's ridge point.

    Examples
    --------
    >>> q = prefill_intensity(batch=1, prefill_flops=1.662144e15, prefill_bytes=166.2144e9)
    >>> print(f"{q:.0f~P}")
    10000 FLOP/B
    """
    return batch * prefill_flops / prefill_bytes
