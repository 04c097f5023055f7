"""Speculative decoding: a draft proposes gamma tokens, the model verifies them in one step and
keeps the accepted prefix plus one token of its own.

Decode is memory-bound: a step reads every weight whether it checks one token per sequence or
gamma + 1, so verification is almost free and each step yields more tokens.  The draft may be a
small model or the model's own multi-token-prediction (MTP) modules (DeepSeek-V3, MiMo,
GLM-4.5).  The gain ends where the verification step turns compute-bound: at a large batch the
gamma + 1 tokens per sequence cost their FLOPs.

Sources: Leviathan, Kalman & Matias, "Fast Inference from Transformers via Speculative
Decoding" (ICML 2023), Eq. 1 and Theorem 3.8; DeepSeek-V3 technical report
(arXiv:2412.19437), section 2.2 (MTP modules) and section 5.4.3 (85-90 % acceptance of the
second token, 1.8x tokens per second).
"""

from __future__ import annotations

import sympy

from llmphys import attention, latency, param_counts  # noqa: F401  (parts below)
from llmphys.engine import formula
from llmphys.features import SPECULATIVE

__all__ = [
    "inter_token_latency_speculative",
    "mtp_draft_cost_ratio",
    "spec_kv_extra_bytes",
    "spec_speedup",
    "spec_tokens_per_step",
    "spec_verify_step_time",
]

_LEVIATHAN = (
    "Leviathan, Kalman & Matias, 'Fast Inference from Transformers via Speculative Decoding' "
    "(ICML 2023)"
)
_DEEPSEEK = "DeepSeek-V3 technical report (arXiv:2412.19437)"


@formula(
    unit="token",
    latex=r"\tau_{\mathrm{spec}}",
    text="tau_spec",
    source=f"{_LEVIATHAN}, Eq. 1: expected tokens per target step (1 - a^(g+1)) / (1 - a)",
)
def spec_tokens_per_step(acceptance_rate, draft_tokens):
    """Expected tokens one target-model step yields with speculative decoding: the accepted
    prefix of the gamma drafted tokens plus the target's own next token.

    Notes
    -----
    - Each drafted token is accepted with probability alpha (independently): the step yields
      1 + alpha + ... + alpha^gamma tokens on average.
    - At alpha = 1 every draft is accepted: gamma + 1 tokens (the closed form's limit, written
      as its own case).
    - alpha = 0.8, gamma = 4: 3.3616 tokens per step.

    Examples
    --------
    >>> print(spec_tokens_per_step(acceptance_rate=0.8, draft_tokens=4))
    3.3616 tok
    """
    a, g = acceptance_rate, draft_tokens
    return sympy.Piecewise((g + 1, sympy.Eq(a, 1)), ((1 - a ** (g + 1)) / (1 - a), True))


@formula(
    unit="",
    latex=r"S_{\mathrm{spec}}",
    source=f"{_LEVIATHAN}, Theorem 3.8 (walltime improvement)",
)
def spec_speedup(spec_tokens_per_step, draft_tokens, draft_cost_ratio):
    """Decode speed-up of speculative decoding: tokens per step over the step's cost, gamma
    draft steps of relative cost c and one target step.

    Notes
    -----
    - Assumes the verification step costs one ordinary decode step: memory-bound decode reads
      the same weights for gamma + 1 tokens as for one.  Its extra KV entries and FLOPs are
      small next to that until the batch makes the step compute-bound.
    - Below 1 when the drafts are rarely accepted or too costly.

    Examples
    --------
    >>> q = spec_speedup(acceptance_rate=0.8, draft_tokens=4, draft_cost_ratio=0.05)
    >>> print(f"{q:.4g~P}")
    2.801
    """
    return spec_tokens_per_step / (draft_tokens * draft_cost_ratio + 1)


@formula(
    unit="second",
    latex=r"t_{\mathrm{verify}}",
    source=f"{_LEVIATHAN}, section 3.4 (the target runs on gamma + 1 tokens in parallel); the "
    "roofline of that step",
)
def spec_verify_step_time(decode_step_time, token_compute_time, batch, draft_tokens):
    """Time of the verification step: the model runs the gamma drafted tokens and one more for
    every sequence of the batch, on the roofline.

    Notes
    -----
    - Memory: the step reads the weights and each sequence's KV cache once, as a decode step
      does (its gamma + 1 queries share the reads): the decode step's time.
    - Compute: B (gamma + 1) tokens at the layout's compute time per token.  At batch 1 this is
      far below the memory time and verification is free; at large batches it sets the step
      and speculation stops paying.

    Examples
    --------
    >>> q = spec_verify_step_time(decode_step_time=0.021, token_compute_time=0.83e-3,
    ...                           batch=64, draft_tokens=4)
    >>> print(f"{q:.4g~P}")
    0.2656 s
    """
    return sympy.Max(
        decode_step_time, batch * (draft_tokens + 1) * token_compute_time, evaluate=False
    )


@formula(
    unit="second",
    latex=r"t_{\mathrm{ITL}}^{\mathrm{spec}}",
    source=f"{_LEVIATHAN}, Theorem 3.8 (walltime improvement), with the verification step's "
    "own roofline time",
    replaces="inter_token_latency",
    feature=SPECULATIVE,
)
def inter_token_latency_speculative(
    decode_step_time, spec_verify_step_time, draft_tokens, draft_cost_ratio, spec_tokens_per_step
):
    """Mean time between two tokens of a sequence with speculative decoding: gamma draft steps
    and one verification step, over the tokens that round yields.

    Notes
    -----
    - Tokens arrive in bursts (the accepted prefix at once); this is their mean gap, which is
      what TPOT and tokens per second per user measure.
    - When verification costs one decode step (memory-bound), this is the decode step over
      ``spec_speedup``; at large batches the verification's compute makes it longer, and
      below one decode step speculation loses.

    Examples
    --------
    >>> q = inter_token_latency_speculative(decode_step_time=0.021, spec_verify_step_time=0.021,
    ...       draft_tokens=4, draft_cost_ratio=0.05, acceptance_rate=0.8)
    >>> print(f"{q.to('ms'):.4g~P}")
    7.496 ms
    """
    draft = draft_tokens * draft_cost_ratio * decode_step_time
    return (draft + spec_verify_step_time) / spec_tokens_per_step


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV}}^{\mathrm{spec}}",
    source=f"{_LEVIATHAN}, section 3.4; vLLM's speculative decoding reserves KV slots for the "
    "drafted tokens",
)
def spec_kv_extra_bytes(batch, draft_tokens, kv_bytes_per_token):
    """KV cache the drafted tokens take during verification: gamma more entries per sequence
    (the rejected ones are freed after the step).

    Notes
    -----
    - Small next to the cache (gamma tokens against the whole context), but it is held at the
      peak: add it to the KV cache when sizing a speculative deployment near its limit.
    - A separate draft model holds its own weights and KV cache as well; MTP modules hold
      their weights (``mtp_params``).

    Examples
    --------
    >>> q = spec_kv_extra_bytes(batch=64, draft_tokens=4, kv_bytes_per_token=327680)
    >>> print(f"{q.to('MiB'):.4g~P}")
    80 MiB
    """
    return batch * draft_tokens * kv_bytes_per_token


@formula(
    unit="",
    latex=r"c_{\mathrm{MTP}}",
    source=f"{_DEEPSEEK}, section 2.2: an MTP module is one transformer block beside the "
    "model's shared embedding and output head",
)
def mtp_draft_cost_ratio(active_params, layers, embedding_params):
    """Draft cost ratio of a multi-token-prediction module: its step reads one transformer
    block's active weights and the output head, the model's step all its active weights.

    Notes
    -----
    - Memory-bound steps cost their weight reads: one block (the model's active weights per
      layer) plus the vocab x hidden head, over the active weights.  The module's 2d x d
      projection and norms are left out (under 0.1 % of the model).
    - DeepSeek-V3 (37B active, 61 layers, a 129,280 x 7,168 head): 0.041.  With one module
      (gamma = 1) and the report's 85-90 % acceptance: a 1.78-1.83x speed-up (the report:
      1.8x tokens per second).

    Examples
    --------
    >>> q = mtp_draft_cost_ratio(active_params=37e9, layers=61, vocab_size=129280, hidden=7168)
    >>> print(f"{q:.3f~P}")
    0.041
    """
    return (active_params / layers + embedding_params) / active_params
