"""Chunked prefill: a long prompt split into chunks of C tokens, each chunk run in one step
beside the decode tokens of the sequences already generating.

Without chunking, an engine that prefills a new prompt stops every decoding sequence for the
whole prefill: their next token waits a full prefill step (an inter-token stall of seconds for
a long prompt).  Chunked prefill bounds that wait to one mixed step, and the decode step's idle
compute (it is memory-bound) absorbs part of the chunk for free; the new prompt's first token
comes later, after all its chunks.  vLLM (``--enable-chunked-prefill``, a token budget per
step) and SGLang (``--chunked-prefill-size``) schedule this way; TensorRT-LLM likewise.

Source: Agrawal et al., "SARATHI: Efficient LLM Inference by Piggybacking Decodes with Chunked
Prefills" (arXiv:2308.16369), sections 3-4; Agrawal et al., "Taming Throughput-Latency
Tradeoff in LLM Inference with Sarathi-Serve" (OSDI 2024), section 4.
"""

from __future__ import annotations

import sympy

from llmphys import latency  # noqa: F401  (decode and prefill step times are parts below)
from llmphys.engine import formula

__all__ = ["itl_stall_unchunked", "mixed_step_time", "ttft_chunked"]

_SARATHI = "Agrawal et al., 'SARATHI' (arXiv:2308.16369)"
_SERVE = "Agrawal et al., 'Sarathi-Serve' (OSDI 2024)"


@formula(
    unit="second",
    latex=r"t_{\mathrm{mixed}}",
    source=f"{_SARATHI}, section 3 (decode-maximal batching: a chunk piggybacks on a decode "
    "step); the roofline of the fused step",
)
def mixed_step_time(decode_step_time, token_compute_time, chunk_tokens, batch):
    """Time of one step that runs a prefill chunk of C tokens beside the B decoding sequences:
    the decode step, or the compute of its C + B tokens if that is longer.

    Notes
    -----
    - The decode step is memory-bound: it reads the weights for B tokens and leaves the compute
      units mostly idle.  A chunk shares that weight read, so it adds only compute: up to
      decode_step_time / t_tok - B tokens it rides for free (SARATHI's piggybacking), beyond
      that the step is compute-bound at (C + B) t_tok.
    - This is the inter-token latency every decoding sequence sees while a prompt is chunked
      in: the cost chunking puts on the others, bounded by the chunk size.  The prompt's own
      first token comes after ceil(S_p / C) such steps (``ttft_chunked``).
    - The decode tokens are priced at the prompt's average compute per token; their attention
      over a longer context costs a little more.

    Examples
    --------
    >>> q = mixed_step_time(decode_step_time=0.021, token_compute_time=0.104e-3,
    ...                     chunk_tokens=2048, batch=32)
    >>> print(f"{q.to('ms'):.4g~P}")
    216.3 ms
    """
    return sympy.Max(
        decode_step_time, (chunk_tokens + batch) * token_compute_time, evaluate=False
    )


@formula(
    unit="second",
    latex=r"t_{\mathrm{TTFT}}^{\mathrm{chunked}}",
    source=f"{_SERVE}, section 4 (a prompt prefilled over ceil(S_p / C) iterations); the "
    "roofline over those steps",
)
def ttft_chunked(decode_step_time, token_compute_time, prompt_len, chunk_tokens, batch, overhead):
    """Time to first token of a prompt prefilled in chunks beside the decoding sequences:
    ceil(S_p / C) steps on the roofline, and the fixed overhead.

    Notes
    -----
    - The steps' memory floor is ceil(S_p / C) decode steps (each reads the weights and the
      decode sequences' caches); their compute is the prompt's S_p tokens and B decode tokens
      per step.  The slower sets the time: the sum of ``mixed_step_time`` over the steps when
      every step is on the same side of the roofline, the last (partial) chunk counted for
      its own tokens.
    - Against an unchunked prefill (``ttft`` at batch 1) it pays the decode tokens' share of
      every step, and the weight reads of the steps a small chunk leaves memory-bound: small
      chunks cost TTFT, large chunks cost the others' inter-token latency
      (``mixed_step_time``).
    - Under the efficiency model (``typical``) the prompt's tokens are priced at the batch's
      prefill per token (``token_compute_time``): its fixed cost is shared by the batch's
      prompts and its FLOP utilization saturates at B S_p tokens, where a chunk's would at
      C + B, and a layout's fixed costs weigh more: within about 2 % for chunks of a few
      thousand tokens.

    Examples
    --------
    >>> q = ttft_chunked(decode_step_time=0.021, token_compute_time=0.104e-3, prompt_len=10000,
    ...                  chunk_tokens=2048, batch=32, overhead=0.08)
    >>> print(f"{q:.4g~P}")
    1.137 s
    """
    steps = sympy.ceiling(prompt_len / chunk_tokens)
    memory = steps * decode_step_time
    compute = (prompt_len + steps * batch) * token_compute_time
    return sympy.Max(memory, compute, evaluate=False) + overhead


@formula(
    unit="second",
    latex=r"t_{\mathrm{stall}}",
    source=f"{_SERVE}, section 3.3 (generation stalls: a prefill-prioritizing scheduler pauses "
    "ongoing decodes for a new request's whole prefill)",
)
def itl_stall_unchunked(decode_step_time, token_compute_time, prompt_len):
    """Longest gap between two tokens of a decoding sequence when a new prompt is prefilled
    whole between two of its decode steps (no chunking): a decode step and one prompt's
    prefill.

    Notes
    -----
    - The prompt's prefill is priced at the layout's compute time per token (S_p t_tok): one
      new prompt, whatever the batch of sequences it interrupts.
    - Chunked prefill replaces this stall by a mixed step (``mixed_step_time``): compare the
      two to choose a chunk size.

    Examples
    --------
    >>> q = itl_stall_unchunked(decode_step_time=0.021, token_compute_time=0.104e-3,
    ...                         prompt_len=10000)
    >>> print(f"{q:.4g~P}")
    1.061 s
    """
    return decode_step_time + prompt_len * token_compute_time
