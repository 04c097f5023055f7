"""Latency: prefill and decode step times on the roofline, and the serving metrics built
from them (TTFT, TPOT, inter-token latency, end-to-end latency).

The seed's latency model is ``TTFT = FLOPs / rate + 80 ms``.  Here every phase is a roofline
step: its time is the larger of its compute time (FLOPs over peak x MFU) and its memory time
(bytes moved over bandwidth x MBU).  The seed's TTFT is the compute-bound, batch-1 instance.
"""

from __future__ import annotations

import sympy

from llmphys import bandwidth, compute, memory  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula

__all__ = [
    "attention_score_bytes",
    "decode_compute_time",
    "decode_memory_time",
    "decode_step_time",
    "e2e_latency",
    "inter_token_latency",
    "prefill_bytes",
    "prefill_compute_time",
    "prefill_memory_time",
    "prefill_step_time",
    "prefill_time",
    "token_compute_time",
    "tokens_per_second_per_gpu",
    "tokens_per_second_per_user",
    "tpot",
    "ttft",
]

_ROOFLINE = "Williams, Waterman & Patterson, 'Roofline' (CACM 2009)"


@formula(
    unit="second",
    latex=r"t_{\mathrm{prefill}}",
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
    unit="second",
    latex=r"t_{\mathrm{prefill,C}}",
    source=f"{_ROOFLINE}; seed: Formula Summary / TTFT (Prefill_time), batched",
)
def prefill_compute_time(prefill_time, batch):
    """Compute time of one prefill step: B prompts, each taking the seed's prefill time.

    Notes
    -----
    - Prefill of a batch does B times the FLOPs of one prompt at the same effective rate.

    Examples
    --------
    >>> print(prefill_compute_time(prefill_time=0.5, batch=4))
    2.0 s
    """
    return batch * prefill_time


@formula(
    unit="byte",
    latex=r"M_{\mathrm{scores}}",
    source="seed: Known Limitations ('No FlashAttention: assumes standard O(seq^2) "
    "attention'); Dao et al., 'FlashAttention' (2022), Sec. 2.2 (standard attention: "
    "S and P written to and read from HBM)",
)
def attention_score_bytes(layers, n_heads, prompt_len, act_bytes, causal_factor):
    """HBM bytes that standard (unfused) attention moves for the S x S score matrices of one
    prompt.

    Notes
    -----
    - Standard attention writes the scores S = QK^T to HBM, reads them for the softmax, writes
      the probabilities P and reads them again for P V: four passes over n_h S_p^2 elements
      per layer.
    - Quadratic in the prompt: this, not the FLOPs, is what FlashAttention removes (it keeps
      the tiles on chip); the causal factor skips the masked half.

    Examples
    --------
    >>> q = attention_score_bytes(layers=80, n_heads=64, prompt_len=10000, act_bytes=2,
    ...                           causal_factor=1)
    >>> print(q.to("TB"))
    4.096 TB
    """
    return 4 * causal_factor * layers * n_heads * prompt_len**2 * act_bytes


@formula(
    unit="byte",
    latex=r"D_{\mathrm{prefill}}",
    source=f"{_ROOFLINE}; seed: Memory Hierarchy (weights, KV cache) and Known Limitations",
)
def prefill_bytes(
    weight_bytes, kv_bytes_per_token, prompt_len, batch, flash_attention, attention_score_bytes
):
    """HBM bytes one prefill step moves: the weights once, the prompts' new KV cache, and the
    attention scores unless attention is fused.

    Notes
    -----
    - Every weight is read once per step, whatever the batch (a long prompt touches every
      expert of a mixture of experts, so this takes all the weights).
    - Each of the B prompts writes S_p tokens of K and V.
    - Standard attention also moves the S_p x S_p scores through HBM; with FlashAttention
      (phi_FA = 1) that term is gone.

    Examples
    --------
    >>> q = prefill_bytes(weight_bytes=140e9, kv_bytes_per_token=327680, prompt_len=10000,
    ...                   batch=1, flash_attention=1, attention_score_bytes=4.096e12)
    >>> print(f"{q.to('GB'):.4g~P}")
    143.3 GB
    """
    return (
        weight_bytes
        + batch * prompt_len * kv_bytes_per_token
        + batch * (1 - flash_attention) * attention_score_bytes
    )


@formula(
    unit="second",
    latex=r"t_{\mathrm{prefill,M}}",
    source=_ROOFLINE,
)
def prefill_memory_time(prefill_bytes, effective_bandwidth):
    """Memory time of one prefill step: its bytes over the effective bandwidth.

    Examples
    --------
    >>> print(f"{prefill_memory_time(prefill_bytes=143.3e9, effective_bandwidth=2.039e12):.3g~P}")
    0.0703 s
    """
    return prefill_bytes / effective_bandwidth


@formula(
    unit="second",
    latex=r"t_{\mathrm{prefill,step}}",
    source=_ROOFLINE,
)
def prefill_step_time(prefill_compute_time, prefill_memory_time):
    """Time of one prefill step on the roofline: the larger of its compute and memory times.

    Notes
    -----
    - Compute and memory traffic overlap in a well-fused kernel, so the slower one sets the
      time: a lower bound for a real step.
    - Long prompts are compute-bound; short prompts at batch 1 can be memory-bound (the
      weights must still be read once).

    Examples
    --------
    >>> print(prefill_step_time(prefill_compute_time=8.3, prefill_memory_time=0.07))
    8.3 s
    """
    return sympy.Max(prefill_compute_time, prefill_memory_time, evaluate=False)


@formula(
    unit="second/token",
    latex=r"t_{\mathrm{tok}}",
    source=f"{_ROOFLINE}; Agrawal et al., 'SARATHI' (arXiv:2308.16369), section 3 (a prefill "
    "chunk's cost per token)",
)
def token_compute_time(prefill_step_time, batch, prompt_len):
    """Time per token of a many-token forward pass (a prompt's tokens, a prefill chunk, a
    speculative verification): the prefill step over the tokens it processes.

    Notes
    -----
    - A step that processes many tokens per sequence is compute-bound: its time grows with its
      tokens at this rate.  Chunked prefill and speculative decoding price their extra tokens
      with it.
    - It is read off whole prompts' prefill, so its attention is the prompt's average: every
      token attends half the prompt, causally.  On several GPUs it is the layout's prefill
      step (tensor-parallel split and its all-reduces).
    - A prefill short enough to be memory-bound gives the step's time per token (the weight
      read shared by its tokens): more than the compute alone, so what it prices stays an
      upper bound.
    - Seed example (70B, 10K-token prompt, 8.3 s): 0.83 ms per token.

    Examples
    --------
    >>> q = token_compute_time(prefill_step_time=8.3, batch=1, prompt_len=10000)
    >>> print(f"{q.to('ms/token'):.4g~P}")
    0.83 ms/tok
    """
    return prefill_step_time / (batch * prompt_len)


@formula(
    unit="second",
    latex=r"t_{\mathrm{TTFT}}",
    source="seed: Formula Summary / TTFT, on the roofline and with a batch",
)
def ttft(prefill_step_time, overhead):
    """Time to first token: the prefill step time plus a fixed overhead.

    Notes
    -----
    - The first token comes out of the prefill pass itself.
    - The seed adds 80 ms for scheduling, tokenization and kernel launches.
    - The seed's TTFT (FLOPs / rate + 80 ms) is the instance of a compute-bound prefill at
      batch 1; its 10K-token Llama 3.1 70B example is 8.3 s + 0.08 s.

    Examples
    --------
    >>> print(ttft(prefill_step_time=8.3, overhead=0.08))
    8.38 s
    """
    return prefill_step_time + overhead


@formula(
    unit="second",
    latex=r"t_{\mathrm{decode,C}}",
    source=f"{_ROOFLINE}; seed: Total Decode FLOPs (per token)",
)
def decode_compute_time(decode_flops, batch, effective_flops):
    """Compute time of one decode step: one new token for each of the B sequences.

    Examples
    --------
    >>> print(f"{decode_compute_time(decode_flops=166e9, batch=8, effective_flops=125e12):.3g~P}")
    0.0106 s
    """
    return batch * decode_flops / effective_flops


@formula(
    unit="second",
    latex=r"t_{\mathrm{decode,M}}",
    source=f"{_ROOFLINE}; seed: Bandwidth Bottleneck (Decode Phase)",
)
def decode_memory_time(bytes_per_token, batch, effective_bandwidth):
    """Memory time of one decode step: the active weights once plus each sequence's KV cache.

    Notes
    -----
    - ``bytes_per_token`` already shares the weight read over the batch, so a step moves
      B x D_tok = W_active + B x KV bytes.
    - At batch 1 this is the whole story of decode: it is memory-bound.

    Examples
    --------
    >>> q = decode_memory_time(bytes_per_token=16.06e9, batch=1, effective_bandwidth=2.039e12)
    >>> print(f"{q.to('ms'):.3g~P}")
    7.88 ms
    """
    return batch * bytes_per_token / effective_bandwidth


@formula(
    unit="second",
    latex=r"t_{\mathrm{step}}",
    source=_ROOFLINE,
)
def decode_step_time(decode_compute_time, decode_memory_time):
    """Time of one decode step on the roofline: the larger of its compute and memory times.

    Notes
    -----
    - Below the critical batch (arithmetic intensity under the ridge point) the memory time
      wins; the batch at which decode turns compute-bound is a solve of
      ``arithmetic_intensity`` for ``batch`` with the ridge point as target.

    Examples
    --------
    >>> print(f"{decode_step_time(decode_compute_time=0.001, decode_memory_time=0.0079):.2g~P}")
    0.0079 s
    """
    return sympy.Max(decode_compute_time, decode_memory_time, evaluate=False)


@formula(
    unit="second",
    latex=r"t_{\mathrm{ITL}}",
    source="vLLM / NVIDIA genai-perf metric definitions (inter-token latency)",
)
def inter_token_latency(decode_step_time):
    """Inter-token latency: the time between two tokens of one sequence, one decode step.

    Notes
    -----
    - Each decode step emits one token for every sequence of the batch, so a sequence waits
      one step between tokens.

    Examples
    --------
    >>> print(inter_token_latency(decode_step_time=0.02))
    0.02 s
    """
    return decode_step_time


@formula(
    unit="second",
    latex=r"t_{\mathrm{TPOT}}",
    source="vLLM / NVIDIA genai-perf metric definitions (time per output token, excluding the "
    "first: (e2e - TTFT) / (n - 1))",
)
def tpot(inter_token_latency):
    """Time per output token, excluding the first: the mean inter-token latency.

    Notes
    -----
    - Defined by serving benchmarks as (e2e latency - TTFT) / (output tokens - 1); that
      relation is ``e2e_latency`` solved for TPOT.
    - With every decode step taking the same time it equals the inter-token latency; with
      varying steps it is their mean.  Benchmarks that divide e2e by all output tokens
      (first included) report a smaller, different number.

    Examples
    --------
    >>> print(tpot(inter_token_latency=0.02))
    0.02 s
    """
    return inter_token_latency


@formula(
    unit="second",
    latex=r"t_{\mathrm{e2e}}",
    source="vLLM / NVIDIA genai-perf metric definitions (end-to-end request latency)",
)
def e2e_latency(ttft, tpot, new_tokens):
    """End-to-end latency of a request: the first token after TTFT, each later one after TPOT.

    Notes
    -----
    - The first of the S_new output tokens arrives at TTFT; the other S_new - 1 arrive one
      TPOT apart.  Solving this for TPOT gives its benchmark definition,
      (t_e2e - t_TTFT) / (S_new - 1).
    - With no output tokens the request still pays the prefill: the count of later tokens is
      never negative.

    Examples
    --------
    >>> print(e2e_latency(ttft=0.5, tpot=0.02, new_tokens=101))
    2.5 s
    """
    return ttft + sympy.Max(new_tokens - 1, 0, evaluate=False) * tpot


@formula(
    unit="token/second",
    latex=r"R_{\mathrm{user}}",
    source="seed: Bandwidth Bottleneck (A100 at 2 TB/s 'could do ~12 tok/s'); roofline",
)
def tokens_per_second_per_user(inter_token_latency):
    """Decode speed one user sees: one token per inter-token latency.

    Examples
    --------
    >>> print(tokens_per_second_per_user(inter_token_latency=0.08))
    12.5 tok/s
    """
    return 1 / inter_token_latency


@formula(
    unit="token/second",
    latex=r"R_{\mathrm{GPU}}",
    source="roofline; the seed's batch amortization (Weight Streaming)",
)
def tokens_per_second_per_gpu(tokens_per_second_per_user, batch):
    """Decode throughput of the accelerator: every sequence of the batch gets a token per step.

    Notes
    -----
    - Batching trades per-user speed for throughput: while decode is memory-bound the step time
      barely grows with B, so throughput grows almost linearly.

    Examples
    --------
    >>> print(tokens_per_second_per_gpu(tokens_per_second_per_user=12.5, batch=8))
    100.0 tok/s
    """
    return batch * tokens_per_second_per_user
