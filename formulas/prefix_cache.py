"""Prefix caching: a prompt whose first tokens an earlier request already prefilled reuses
their keys and values, so prefill computes only the rest.

The cached tokens still take their place in the KV cache (they are read by every later query)
and in the decode step's reads: only prefill's compute shrinks.  Serving engines (vLLM's
automatic prefix caching, SGLang's RadixAttention) hit on shared system prompts, few-shot
examples and multi-turn conversations.

Source: Zheng et al., "SGLang: Efficient Execution of Structured Language Model Programs"
(RadixAttention, NeurIPS 2024); the causal count of attention as in
``prefill_flops``.
"""

from __future__ import annotations

from llmphys import compute  # noqa: F401  (dense_flops, attention_flops are parts below)
from llmphys.engine import formula
from llmphys.features import PREFIX_CACHE

__all__ = ["prefill_flops_prefix_cached"]


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{prefill}}^{\mathrm{hit}}",
    source="seed: Transformer Forward Pass / Total Prefill FLOPs, for the uncached suffix of "
    "the prompt; SGLang RadixAttention (prefix reuse)",
    replaces="prefill_flops",
    feature=PREFIX_CACHE,
)
def prefill_flops_prefix_cached(
    dense_flops, attention_flops, prompt_len, causal_factor, prefix_hit
):
    """FLOPs to prefill a prompt whose first h S_p tokens are cached: the dense pass over the
    (1 - h) S_p new tokens, and their queries' attention over the whole prompt.

    Notes
    -----
    - The new queries sit at positions h S_p to S_p: causally each attends to the tokens
      before it, on average (1 + h) S_p / 2 of them, so the attention term scales by
      1 - (1 - c)(1 - h) (the seed's non-causal count, c = 1: the whole prompt).
    - At h = 0 this is ``prefill_flops``; as h grows the dense part shrinks in proportion,
      the attention part less (the new tokens still attend the cached ones).
    - The cached tokens' keys and values still fill the KV cache: memory does not shrink.
    - A scenario given ``prefix_hit=`` prefills this way: its TTFT, prefill throughput and
      input-token price follow the hit rate.
    - A scenario given ``prefix_hit=`` prefills this way: its TTFT, prefill throughput and
      input-token price follow the hit rate; its KV cache does not change.
    - Like ``prefill_flops``, every new token counts 2 FLOP per active parameter (its output
      head included): compare it with ``prefill_flops``, not with a model's last-logit
      variant of it.

    Examples
    --------
    >>> q = prefill_flops_prefix_cached(active_params=70e9, layers=80, prompt_len=10000,
    ...       hidden=8192, causal_factor=0.5, prefix_hit=0.8)
    >>> print(f"{q.to('TFLOP'):.4g~P}")
    327.2 TFLOP
    """
    new = (1 - prefix_hit) * prompt_len
    return dense_flops.at(tokens=new) + (1 - (1 - causal_factor) * (1 - prefix_hit)) * (
        attention_flops.at(query_tokens=new, seq_len=prompt_len)
    )
