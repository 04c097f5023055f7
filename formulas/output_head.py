"""The output head in prefill: logits only where they are needed.

The seed counts ``2 N S_p`` FLOPs for a prompt: every weight, the output head included, meets
every prompt token.  Serving engines compute the head's logits only at each prompt's last
position (the one that picks the first new token) unless prompt log-probs are asked for; with a
262k vocabulary the head is a large share of a small model's weights, so the difference shows
(Gemma-3-1B: about 30 % of the prefill).  A model read from a config.json knows its vocabulary
and takes :func:`prefill_flops_last_logit` in place of ``prefill_flops``.
"""

from __future__ import annotations

from llmphys import compute, param_counts  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula
from llmphys.features import OUTPUT_HEAD
from llmphys.units import unit_symbol

__all__ = ["lm_head_flops", "logit_positions", "prefill_flops_last_logit"]

TOKEN = unit_symbol("token")

#: where engines compute logits only at the last prompt position
LAST_LOGIT = (
    "vLLM v1 (vllm/v1/worker/gpu_model_runner.py: logits_indices = query_start_loc[1:] - 1, "
    "the last scheduled token of each request) and Hugging Face transformers generate() "
    "(logits_to_keep=1); prompt log-probs (vLLM SamplingParams.prompt_logprobs) need them all"
)


@formula(
    unit="token",
    latex=r"n_{\mathrm{logit}}",
    source=LAST_LOGIT,
)
def logit_positions(prompt_len, prompt_logprobs):
    """Prompt positions the output head computes logits for in prefill: the last one, or every
    prompt token when prompt log-probs are asked for.

    Notes
    -----
    - Only the last position's logits pick the first new token; engines drop the other rows
      before the output head (phi_lp = 0).
    - phi_lp = 1 computes them all: prompt log-probs (scoring, evaluation) and the seed's
      ``2 N S_p`` count, where every weight meets every prompt token.

    Examples
    --------
    >>> print(logit_positions(prompt_len=2048, prompt_logprobs=0))
    1.0 tok
    >>> print(logit_positions(prompt_len=2048, prompt_logprobs=1))
    2048.0 tok
    """
    return prompt_logprobs * prompt_len + (1 - prompt_logprobs) * TOKEN


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{head}}",
    source=f"{LAST_LOGIT}; seed: Transformer Forward Pass / Dense Layer (2 FLOP per weight)",
)
def lm_head_flops(dense_flops, embedding_params, logit_positions):
    """FLOPs of the output head in one prompt's prefill: a V x d matmul at each position whose
    logits are computed.

    Notes
    -----
    - 2 FLOP per head parameter (V d) per position: the dense-pass rule applied to the head.
    - Large for big vocabularies: Gemma-3-1B's head (262,144 x 1,152) is 30 % of its weights,
      so counting it at every prompt token overstates the prefill by about 30 %.

    Examples
    --------
    >>> q = lm_head_flops(vocab_size=128256, hidden=4096, prompt_len=2048, prompt_logprobs=0)
    >>> print(f"{q.to('GFLOP'):.4g~P}")
    1.051 GFLOP
    """
    return dense_flops.at(active_params=embedding_params, tokens=logit_positions)


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{prefill}}^{\mathrm{head}}",
    source=f"seed: Transformer Forward Pass / Total Prefill FLOPs; {LAST_LOGIT}",
    replaces="prefill_flops",
    feature=OUTPUT_HEAD,
)
def prefill_flops_last_logit(prefill_flops, active_params, embedding_params, lm_head_flops):
    """FLOPs to prefill a prompt, the output head counted where logits are computed: the layers'
    matmuls over every prompt token, the head at the logit positions, plus attention.

    Notes
    -----
    - Replaces ``prefill_flops`` for a model whose vocabulary is known (every model read from a
      config.json).  The head's V x d parameters leave the per-token count and come back at
      n_logit positions: the last one by default (phi_lp = 0).
    - phi_lp = 1 gives back the seed's ``2 N S_p`` exactly (the seed assumption set).
    - Llama-3.1-8B at a 2,048-token prompt: 2 x 6,979,588,096 x 2,048 + 2 x 525,336,576 +
      attention; the seed's count adds 2 x 525,336,576 x 2,047 = 2.15 TFLOP (7.2 %).

    Examples
    --------
    >>> q = prefill_flops_last_logit(active_params=7504924672, vocab_size=128256, hidden=4096,
    ...     layers=32, prompt_len=2048, causal_factor=0.5, prompt_logprobs=0)
    >>> print(f"{q.to('TFLOP'):.5g~P}")
    29.689 TFLOP
    """
    return prefill_flops.at(active_params=active_params - embedding_params) + lm_head_flops
