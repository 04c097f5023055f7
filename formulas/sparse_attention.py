"""Sparse attention with a lightning indexer (DeepSeek Sparse Attention, DSA).

DeepSeek-V3.2 and GLM-5 keep MLA's cached latent per token and layer, and add a small
*indexer* in every layer: a few heads that score every cached token for each query with a
cheap dot product; the query then attends only to the ``index_topk`` best-scoring tokens
(2,048), not the whole context.  What it changes:

* parameters: the indexer's own projections (a query up-projection from MLA's query latent,
  a key projection, a key LayerNorm and per-head weights);
* memory: one ``index_head_dim``-wide indexer key per token and layer beside the MLA latent
  (DeepSeek's inference code keeps it in FP8);
* compute and bytes: attention proper over at most k tokens (constant in the context), plus
  the indexer's pass over the whole context (still quadratic in prefill, but H_I d_I wide
  instead of n_h (d_h^N + d_h^R)).

Sources: DeepSeek-V3.2-Exp technical report (DeepSeek Sparse Attention, the lightning
indexer); HF transformers 5.25 ``DeepseekV32Indexer`` / ``GlmMoeDsaIndexer`` (tensor shapes).
"""

from __future__ import annotations

import sympy

from llmphys import attention, compute, param_counts  # noqa: F401  (parts used below)
from llmphys.attention import BYTE_PER_ELEMENT
from llmphys.engine import formula
from llmphys.units import unit_symbol

FLOP = unit_symbol("FLOP")

__all__ = [
    "attention_flops_sparse",
    "dsa_attention_params",
    "index_key_bytes_per_token",
    "indexer_flops",
    "indexer_params",
    "kv_bytes_per_token_dsa",
    "kv_elements_per_token_dsa",
    "kv_read_sparse",
    "selected_tokens",
]

_DSA = "DeepSeek-V3.2-Exp technical report (DeepSeek Sparse Attention)"
_HF = "HF transformers 5.25 DeepseekV32Indexer"


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{idx}}",
    source=f"{_HF} (wq_b H_I d_I x d_c', wk d_I x d, k_norm LayerNorm d_I, weights_proj "
    "H_I x d); DeepSeek-V3.2 13,959,424 per layer",
)
def indexer_params(hidden, q_lora_rank, index_n_heads, index_head_dim):
    """Weights of one layer's lightning indexer.

    Notes
    -----
    - Queries: an up-projection from MLA's compressed query (d_c') to H_I heads of d_I.
    - One key of d_I per token (d x d_I), normalized by a LayerNorm (scale and shift, 2 d_I).
    - Per-head weights that mix the heads' scores (d x H_I).

    Examples
    --------
    >>> q = indexer_params(hidden=7168, q_lora_rank=1536, index_n_heads=64, index_head_dim=128)
    >>> print(f"{q:,.0f~P}")
    13,959,424 param
    """
    return (
        index_n_heads * index_head_dim * q_lora_rank
        + index_head_dim * hidden
        + 2 * index_head_dim
        + index_n_heads * hidden
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn}}^{\mathrm{DSA}}",
    source=f"{_DSA}; {_HF}",
    replaces="mla_attention_params",
    feature="sparse_indexer",
)
def dsa_attention_params(mla_attention_params, indexer_params):
    """Attention weights of one DSA layer: MLA's projections plus the indexer.

    Examples
    --------
    >>> q = dsa_attention_params(hidden=7168, q_lora_rank=1536, kv_lora_rank=512,
    ...       n_heads=128, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
    ...       index_n_heads=64, index_head_dim=128)
    >>> print(f"{q:,.0f~P}")
    201,066,752 param
    """
    return mla_attention_params + indexer_params


@formula(
    unit="byte/token",
    latex=r"m_{I}",
    source=f"{_DSA} (the indexer caches one key per token); DeepSeek-V3.2 inference code "
    "(indexer keys in FP8)",
)
def index_key_bytes_per_token(layers, index_head_dim, index_kv_bytes):
    """Bytes of indexer keys cached per token, over all layers: one d_I-wide key per layer.

    Notes
    -----
    - Every cached token keeps it, as long as the context: the indexer scores all of them.
    - DeepSeek-V3.2: 61 x 128 = 7,808 values, 7.8 kB per token in FP8, beside MLA's 70.3 kB
      in BF16.

    Examples
    --------
    >>> q = index_key_bytes_per_token(layers=61, index_head_dim=128, index_kv_bytes="fp8")
    >>> print(f"{q:,.0f~P}")
    7,808 B/tok
    """
    return layers * index_head_dim * index_kv_bytes


@formula(
    unit="byte/token",
    latex=r"m_{\mathrm{kv}}^{\mathrm{DSA}}",
    source=f"{_DSA}: MLA latent and rotary key plus the indexer key per token and layer",
    replaces="kv_bytes_per_token_mla",
    feature="sparse_indexer",
)
def kv_bytes_per_token_dsa(kv_bytes_per_token_mla, index_key_bytes_per_token):
    """Cache bytes per token of a DSA model: MLA's latent and rotary key, and the indexer key.

    Examples
    --------
    >>> q = kv_bytes_per_token_dsa(layers=61, kv_lora_rank=512, qk_rope_head_dim=64,
    ...       kv_bytes="bf16", index_head_dim=128, index_kv_bytes="fp8")
    >>> print(f"{q:,.0f~P}")
    78,080 B/tok
    """
    return kv_bytes_per_token_mla + index_key_bytes_per_token


@formula(
    unit="element/token",
    latex=r"e_{\mathrm{kv}}^{\mathrm{DSA}}",
    source=f"{_DSA}; DeepSeek-V2 technical report (arXiv:2405.04434), Table 1 (MLA elements)",
    replaces="kv_elements_per_token",
    feature="sparse_indexer",
)
def kv_elements_per_token_dsa(kv_bytes_per_token_dsa):
    """Cache elements per token of a DSA model, all layers: MLA's latent and rotary key and
    the indexer key, at one byte per element whatever their precisions.

    Examples
    --------
    >>> print(kv_elements_per_token_dsa(layers=61, kv_lora_rank=512, qk_rope_head_dim=64,
    ...                                 index_head_dim=128))
    42944.0 element/tok
    """
    return (
        kv_bytes_per_token_dsa.at(kv_bytes=BYTE_PER_ELEMENT, index_kv_bytes=BYTE_PER_ELEMENT)
        / BYTE_PER_ELEMENT
    )


@formula(
    unit="token",
    latex=r"S_{k}",
    source=f"{_DSA} (each query attends to the top-k tokens the indexer selects)",
)
def selected_tokens(seq_len, index_topk):
    """Cached tokens one query attends to in a sparse-attention layer: the context, capped at
    the indexer's top k.

    Examples
    --------
    >>> print(selected_tokens(seq_len=100000, index_topk=2048))
    2048.0 tok
    """
    return sympy.Min(seq_len, index_topk, evaluate=False)


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{idx}}",
    source=f"{_DSA} (index scores: H_I heads of d_I per query and cached token); {_HF}",
)
def indexer_flops(layers, query_tokens, seq_len, index_n_heads, index_head_dim):
    """FLOPs of the indexer's scores over all layers: every query against every cached token,
    H_I heads of d_I.

    Notes
    -----
    - Still quadratic in prefill, but narrow: DeepSeek-V3.2's 64 x 128 against MLA's attention
      of 128 heads x (192 + 128) per layer.
    - The head weighting, ReLU and top-k selection are a few operations per score: left out,
      as the softmax is.

    Examples
    --------
    >>> q = indexer_flops(layers=61, query_tokens=1, seq_len=100000, index_n_heads=64,
    ...                   index_head_dim=128)
    >>> print(f"{q.to('GFLOP'):.4g~P}")
    99.94 GFLOP
    """
    return 2 * FLOP * layers * query_tokens * seq_len * index_n_heads * index_head_dim


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{attn}}^{\mathrm{DSA}}",
    source=f"{_DSA}",
    replaces="attention_flops",
    feature="sparse_indexer",
)
def attention_flops_sparse(attention_flops, selected_tokens, indexer_flops):
    """Attention FLOPs of a DSA model: attention over the selected tokens only, plus the
    indexer over the whole context.

    Notes
    -----
    - Beyond k tokens of context, attention proper stops growing; the indexer's narrower pass
      is what grows.
    - In prefill the causal factor halves both terms: exact for the indexer and for contexts
      up to k; beyond k each query attends k tokens, so the (linear, small) attention term
      is up to 2x low there.

    Examples
    --------
    >>> q = attention_flops_sparse(layers=61, query_tokens=1, seq_len=100000, hidden=7168,
    ...       index_topk=2048, index_n_heads=64, index_head_dim=128)
    >>> print(f"{q.to('GFLOP'):.4g~P}")
    103.5 GFLOP
    """
    return attention_flops.at(seq_len=selected_tokens) + indexer_flops


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,r}}^{\mathrm{DSA}}",
    source=f"{_DSA}; seed: Bandwidth Bottleneck / KV Cache Streaming",
    replaces="kv_read",
    feature="sparse_indexer",
)
def kv_read_sparse(kv_bytes_per_token_dsa, selected_tokens, index_key_bytes_per_token, avg_seq_len):
    """Cache bytes read per decoded token of a DSA model: the latents of the k selected tokens
    (the cache per token less its indexer key) and the indexer keys of the whole context.

    Notes
    -----
    - Replaces ``kv_read``: at 100K tokens of context DeepSeek-V3.2 reads 2,048 latents (144 MB)
      and 100K indexer keys (781 MB), not 100K latents (7.0 GB).

    Examples
    --------
    >>> q = kv_read_sparse(layers=61, kv_lora_rank=512, qk_rope_head_dim=64, kv_bytes="bf16",
    ...       index_topk=2048, index_head_dim=128, index_kv_bytes="fp8", avg_seq_len=100000)
    >>> print(f"{q.to('MB/token'):.4g~P}")
    924.7 MB/tok
    """
    return (kv_bytes_per_token_dsa - index_key_bytes_per_token) * selected_tokens.at(
        seq_len=avg_seq_len
    ) + index_key_bytes_per_token * avg_seq_len
