"""Latency: prefill time and time to first token (seed: Formula Summary / TTFT)."""

from __future__ import annotations

from llmphys import compute  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula

__all__ = ["prefill_time", "ttft"]


@formula(
    unit="second",
    latex=r"t_{\mathrm{prefill}}",
    text="t_prefill",
    source="seed: Formula Summary / TTFT (Prefill_time)",
)
def prefill_time(prefill_flops, effective_flops):
    """Time to prefill a prompt: its FLOPs over the effective FLOP rate.

    Notes
    -----
    - Prefill processes the whole prompt in large matrix products: compute-bound.
    - Seed example, Llama 3.1 70B, 10K prompt at 200 TFLOPS: 1.66e15 / 200e12 = 8.3 s.

    Examples
    --------
    >>> print(prefill_time(prefill_flops=1.66e15, effective_flops=200e12))
    8.3 s
    """
    return prefill_flops / effective_flops


@formula(
    unit="second", latex=r"t_{\mathrm{TTFT}}", text="t_TTFT", source="seed: Formula Summary / TTFT"
)
def ttft(prefill_time, overhead):
    """Time to first token: the prefill time plus a fixed overhead.

    Notes
    -----
    - The seed adds 80 ms for scheduling, tokenization and kernel launches.
    - The first token comes out of the prefill pass itself.

    Examples
    --------
    >>> print(ttft(prefill_time=8.3, overhead=0.08))
    8.38 s
    """
    return prefill_time + overhead
