"""Disaggregated prefill and decode: separate GPU pools for the two phases, sized for a request
mix, with the prompt's KV cache sent from one to the other.

Prefill is compute-bound and bursty (a whole prompt per step), decode memory-bound and steady
(one token per sequence per step): serving them on separate GPUs lets each pool run at its own
best batch and keeps long prefills from stalling the decode steps of other users.  For an
arrival rate of lambda requests per second, the prefill pool must prefill lambda S_p prompt
tokens per second and the decode pool decode lambda S_out tokens per second; each pool's GPU
count is that rate over one GPU's (at the batch that meets the pool's latency target), and
their ratio is the P:D ratio (1 : decode GPUs per prefill GPU).

Source: Zhong et al., "DistServe: Disaggregating Prefill and Decoding for Goodput-optimized
Large Language Model Serving" (OSDI 2024); Patel et al., "Splitwise" (ISCA 2024).
"""

from __future__ import annotations

from llmphys import communication, economics, memory  # noqa: F401  (parts below)
from llmphys.engine import formula

__all__ = ["decode_gpus_needed", "kv_transfer_time", "pd_ratio", "prefill_gpus_needed"]

_DISTSERVE = "Zhong et al., 'DistServe' (OSDI 2024), section 3 (sizing each phase's instances)"


@formula(
    unit="",
    latex=r"N_{\mathrm{P}}",
    source=_DISTSERVE,
)
def prefill_gpus_needed(arrival_rate, prompt_len, prefill_tokens_per_second_per_gpu):
    """GPUs the prefill pool needs: the prompt tokens arriving per second over what one GPU
    prefills per second (round up for whole GPUs).

    Examples
    --------
    >>> q = prefill_gpus_needed(arrival_rate=10, prompt_len=4096,
    ...                         prefill_tokens_per_second_per_gpu=12000)
    >>> print(f"{q:.4g~P}")
    3.413
    """
    return arrival_rate * prompt_len / prefill_tokens_per_second_per_gpu


@formula(
    unit="",
    latex=r"N_{\mathrm{D}}",
    source=_DISTSERVE,
)
def decode_gpus_needed(arrival_rate, new_tokens, tokens_per_second_per_gpu):
    """GPUs the decode pool needs: the output tokens requested per second over what one GPU
    decodes per second at its batch (round up for whole GPUs).

    Examples
    --------
    >>> q = decode_gpus_needed(arrival_rate=10, new_tokens=1024, tokens_per_second_per_gpu=900)
    >>> print(f"{q:.4g~P}")
    11.38
    """
    return arrival_rate * new_tokens / tokens_per_second_per_gpu


@formula(
    unit="",
    latex=r"D/P",
    source=_DISTSERVE,
)
def pd_ratio(prefill_gpus_needed, decode_gpus_needed):
    """The P:D ratio of a request mix, as decode GPUs per prefill GPU (P:D = 1 : this):
    independent of the arrival rate.

    Notes
    -----
    - Long prompts and short answers need relatively more prefill GPUs (a small ratio); chat
      with long answers more decode GPUs.  Prefill-only requests (no output) need no decode GPU:
      a ratio of 0.

    Examples
    --------
    >>> q = pd_ratio(prompt_len=4096, prefill_tokens_per_second_per_gpu=12000, new_tokens=1024,
    ...              tokens_per_second_per_gpu=900)
    >>> print(f"{q:.3g~P}")
    3.33
    """
    return decode_gpus_needed / prefill_gpus_needed


@formula(
    unit="second",
    latex=r"t_{\mathrm{KV\,xfer}}",
    text="t_KV,xfer",
    source=f"{_DISTSERVE} (KV cache transmission); alpha-beta model of a point-to-point send",
)
def kv_transfer_time(pp_send_time, kv_bytes_per_token, prompt_len):
    """Time to send one prompt's KV cache from its prefill GPU to its decode GPU: the cache's
    bytes over the link, plus one hop.

    Notes
    -----
    - Added to the time to first token of a disaggregated deployment (unless overlapped with
      the prefill layer by layer).
    - Llama 3.1 70B, 4,096 tokens in BF16 over one NVLink-4 direction: 1.34 GB in 3 ms.

    Examples
    --------
    >>> q = kv_transfer_time(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16",
    ...                      prompt_len=4096, link_bandwidth=450e9, link_latency=0.6e-6)
    >>> print(f"{q.to('ms'):.4g~P}")
    2.983 ms
    """
    return pp_send_time.at(message_bytes=kv_bytes_per_token * prompt_len)
