"""Attention variants: the KV cache and attention FLOPs of real architectures.

The seed writes every attention formula for full multi-head attention (MHA), where the K and V
caches of a layer are ``hidden`` wide.  Real models differ, and the differences are the most
reported bugs of public calculators:

* grouped-query (GQA) and multi-query (MQA) attention cache ``n_kv`` heads of ``d_h``, not
  ``hidden`` (Llama 3.1 70B: 8 x 128 = 2,048 instead of 8,192).  The seed's
  ``kv_bytes_per_token`` already covers them: it is written over ``n_kv`` and ``d_h``;
* ``d_h`` is not always ``hidden / n_h`` (Qwen3, Gemma, gpt-oss): every formula here takes the
  head width explicitly;
* multi-head latent attention (MLA, DeepSeek-V2/V3) caches one compressed latent of ``d_c`` plus
  one shared rotary key of ``d_h^R`` per layer, whatever the number of heads;
* sliding-window (local) layers cache at most ``W`` tokens; Gemma 3 interleaves 5 local layers
  with 1 global one, gpt-oss alternates them.

Each variant is a formula with the unit of the part it replaces, so an architecture swaps it in
with :meth:`~llmphys.Formula.with_parts` (``llmphys.models[name].formula(...)`` does this for a
preset): ``total_vram.with_parts(kv_bytes_per_token=kv_bytes_per_token_mla)`` is total VRAM of an
MLA model, with the same derivation chain.  Reference: DeepSeek-V2 technical report, Table 1
(KV cache per token of MHA, GQA, MQA and MLA); ``HF configs and model cards``.
"""

from __future__ import annotations

import sympy

from llmphys import bandwidth, compute, features, memory  # noqa: F401  (parts; variant features)
from llmphys.engine import formula
from llmphys.units import unit_symbol

__all__ = [
    "attention_flops_windowed",
    "av_flops_heads",
    "av_flops_mla",
    "kv_bytes_per_token_mha",
    "kv_bytes_per_token_mla",
    "kv_bytes_per_token_windowed",
    "kv_cache_bytes_windowed",
    "kv_elements_per_token",
    "kv_read_windowed",
    "kv_width",
    "mla_latent_width",
    "qk_flops_heads",
    "qk_flops_mla",
    "windowed_seq_len",
]

TABLE_1 = "DeepSeek-V2 technical report (arXiv:2405.04434), Table 1"
#: where a sliding-window layer's cached length comes from
_WINDOWS = (
    "HF configs and model cards (sliding-window layers cap their cached length at the window)"
)

#: 1 B/element: costing each cached element one byte turns a KV byte count into an element count
BYTE_PER_ELEMENT = unit_symbol("byte") / unit_symbol("element")


# ----------------------------------------------------------------------------- KV widths
@formula(
    unit="element/token",
    latex=r"e_{\mathrm{kv}}",
    source=f"{TABLE_1} (KV cache per token, in elements); HF configs and model cards",
)
def kv_elements_per_token(kv_bytes_per_token):
    """KV-cache elements per cached token, all layers: the KV bytes per token at one byte per
    element.

    Notes
    -----
    - The quantity of the DeepSeek-V2 report's Table 1, independent of the KV precision:
      MHA 2 n_h d_h l, GQA 2 n_g d_h l, MQA 2 d_h l, MLA (d_c + d_h^R) l.
    - Derived from ``kv_bytes_per_token`` (at b_kv = 1 B/element), so it follows whichever
      attention variant is swapped in for it (``kv_bytes_per_token_mla`` gives the MLA row).
    - DeepSeek-V3: (512 + 64) x 61 = 35,136 elements per token (70,272 bytes in BF16).

    Examples
    --------
    >>> print(kv_elements_per_token(layers=80, n_kv_heads=8, head_dim=128))
    163840.0 element/tok
    """
    return kv_bytes_per_token.at(kv_bytes=BYTE_PER_ELEMENT) / BYTE_PER_ELEMENT


@formula(
    unit="element/token",
    latex=r"w_{\mathrm{kv}}",
    source=f"{TABLE_1} (per layer); HF configs and model cards",
)
def kv_width(kv_elements_per_token):
    """KV width of one layer: the KV-cache elements per token of a single layer.

    Notes
    -----
    - MHA / GQA / MQA: K and V of n_kv heads of d_h each, 2 n_kv d_h.  Full multi-head
      attention (the seed's assumption) has n_kv d_h = hidden, so 2 x hidden.
    - The head width d_h is explicit: Qwen3-235B-A22B has 64 heads of 128 = 8,192 on a
      4,096-wide model; assuming d_h = hidden / n_h would be wrong.
    - MLA (with ``kv_bytes_per_token_mla`` swapped in): d_c + d_h^R, one latent plus one shared
      rotary key, whatever the number of heads.
    - Llama 3.1 70B: 2 x 8 x 128 = 2,048, a quarter of the seed's 2 x 8,192.

    Examples
    --------
    >>> print(kv_width(n_kv_heads=8, head_dim=128))
    2048.0 element/tok
    """
    return kv_elements_per_token.at(layers=1)


@formula(
    unit="byte/token",
    latex=r"m_{\mathrm{kv}}^{\mathrm{MHA}}",
    source="seed: Memory Hierarchy / KV Cache (layers * hidden * 2 * precision_bytes); "
    f"{TABLE_1} (MHA row)",
)
def kv_bytes_per_token_mha(kv_bytes_per_token, n_heads, hidden):
    """KV-cache bytes per token as the seed computes them: full multi-head attention with
    d_h = hidden / n_h, so each layer caches K and V of width hidden.

    Notes
    -----
    - The seed's ``layers * hidden * 2 * bytes``: ``kv_bytes_per_token`` with n_kv = n_h and
      d_h = hidden / n_h.
    - Right for a multi-head model whose heads tile the hidden width; 4-8x too high for GQA
      (Llama 3, Mistral, Qwen), and wrong in either direction when d_h != hidden / n_h.
    - Kept to show the seed's number beside the real one (``llmphys.compare``), never to
      replace it silently.

    Examples
    --------
    >>> q = kv_bytes_per_token_mha(layers=80, hidden=8192, kv_bytes="bf16")
    >>> print(f"{q.to('MB/token'):.6g~P}")
    2.62144 MB/tok
    """
    return kv_bytes_per_token.at(n_kv_heads=n_heads, head_dim=hidden / n_heads)


@formula(
    unit="element/token",
    latex=r"w_{\mathrm{MLA}}",
    source=f"{TABLE_1} (MLA row: d_c + d_h^R per layer)",
)
def mla_latent_width(kv_lora_rank, qk_rope_head_dim):
    """KV width of one multi-head latent attention (MLA) layer: the compressed latent plus the
    shared rotary key.

    Notes
    -----
    - MLA compresses K and V jointly into a latent c_KV of d_c = ``kv_lora_rank`` elements;
      the heads' keys and values are recovered from it by up-projections, so only the latent
      is cached.
    - Rotary position embedding cannot pass through that compression, so a decoupled rotary
      key of d_h^R = ``qk_rope_head_dim`` elements, shared by all heads, is cached beside it.
    - Reading DeepSeek-V3's ``num_key_value_heads`` (128) as GQA heads with keys of 128 + 64
      and values of 128 overestimates its cache 71x (40,960 instead of 576 per layer); a "KV
      head" count has no meaning for MLA.
    - DeepSeek-V3: 512 + 64 = 576 elements per layer.

    Examples
    --------
    >>> print(mla_latent_width(kv_lora_rank=512, qk_rope_head_dim=64))
    576.0 element/tok
    """
    return kv_lora_rank + qk_rope_head_dim


@formula(
    unit="byte/token",
    latex=r"m_{\mathrm{kv}}^{\mathrm{MLA}}",
    source=f"{TABLE_1} (MLA row: (d_c + d_h^R) l)",
    replaces="kv_bytes_per_token",
    feature="mla",
)
def kv_bytes_per_token_mla(layers, mla_latent_width, kv_bytes):
    """KV-cache bytes per cached token of an MLA model: the latent width of every layer times
    the bytes per element.

    Notes
    -----
    - Replaces ``kv_bytes_per_token`` (same unit) for DeepSeek-V2/V3; every formula built on
      it (KV cache, KV read and write, total VRAM) then follows.
    - DeepSeek-V3 in BF16: 61 x 576 x 2 = 70,272 bytes per token, where a GQA-style reading of
      its config (128 KV heads, keys of 192 and values of 128) would give 5.0 MB.
    - The multi-token-prediction module (``num_nextn_predict_layers``) is not part of the main
      model and is not counted.

    Examples
    --------
    >>> q = kv_bytes_per_token_mla(layers=61, kv_lora_rank=512, qk_rope_head_dim=64,
    ...                            kv_bytes="bf16")
    >>> print(q)
    70272.0 B/tok
    """
    return layers * mla_latent_width * kv_bytes


# ----------------------------------------------------------------------------- sliding windows
@formula(
    unit="token",
    latex=r"S_{W}",
    source=_WINDOWS,
)
def windowed_seq_len(seq_len, sliding_window):
    """Tokens a sliding-window (local) layer caches: the context, capped at the window.

    Notes
    -----
    - A local layer attends only to the last W tokens, so older keys and values are dropped
      (a ring buffer of W entries).
    - Gemma-3-27B: W = 1,024 on 52 of its 62 layers; gpt-oss: W = 128 on half of its layers.

    Examples
    --------
    >>> print(windowed_seq_len(seq_len=32768, sliding_window=1024))
    1024.0 tok
    """
    return sympy.Min(seq_len, sliding_window, evaluate=False)


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV}}^{\mathrm{win}}",
    source="HF configs and model cards (Gemma-3-27B: sliding_window 1024 on 5 of every 6 "
    "layers; gpt-oss: sliding_window 128 on alternate layers)",
    replaces="kv_cache_bytes",
    feature="sliding_window",
)
def kv_cache_bytes_windowed(kv_cache_bytes, global_layers, local_layers, windowed_seq_len):
    """KV cache of a model that interleaves global and sliding-window layers: the global layers
    cache the whole context, the local ones at most the window.

    Notes
    -----
    - Replaces ``kv_cache_bytes`` (same unit) for Gemma 2/3, gpt-oss and windowed Mistral or
      Qwen2 configs.
    - Ignoring the windows overestimates Gemma-3-27B's cache at 128K tokens about 6x (52 of its
      62 layers hold 1,024 tokens instead of 131,072).
    - Per-layer KV width, head count and KV precision are those of ``kv_bytes_per_token``.

    Examples
    --------
    >>> q = kv_cache_bytes_windowed(global_layers=10, local_layers=52, n_kv_heads=16,
    ...                             head_dim=128, kv_bytes="bf16", seq_len=131072,
    ...                             sliding_window=1024, batch=1)
    >>> print(f"{q.to('GiB'):.4g~P}")
    10.41 GiB
    """
    return kv_cache_bytes.at(layers=global_layers) + kv_cache_bytes.at(
        layers=local_layers, seq_len=windowed_seq_len
    )


@formula(
    unit="byte/token",
    latex=r"m_{\mathrm{kv}}^{\mathrm{win}}",
    source=_WINDOWS,
)
def kv_bytes_per_token_windowed(kv_cache_bytes_windowed, seq_len):
    """KV-cache bytes per cached token of an interleaved local/global model at a given context:
    one sequence's cache over its length.

    Notes
    -----
    - Unlike full attention, this depends on the context: up to the window every layer stores
      every token; beyond it only the global layers grow.
    - Tends to the global layers' share (``kv_bytes_per_token`` at L = L_glob) for contexts
      much longer than the window.

    Examples
    --------
    >>> q = kv_bytes_per_token_windowed(global_layers=10, local_layers=52, n_kv_heads=16,
    ...                                 head_dim=128, kv_bytes="bf16", seq_len=131072,
    ...                                 sliding_window=1024)
    >>> print(f"{q.to('kB/token'):.4g~P}")
    85.25 kB/tok
    """
    return kv_cache_bytes_windowed.at(batch=1) / seq_len


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,r}}^{\mathrm{win}}",
    source="seed: Bandwidth Bottleneck / KV Cache Streaming (read existing KV); "
    "HF configs and model cards (sliding windows)",
    replaces="kv_read",
    feature="sliding_window",
)
def kv_read_windowed(kv_cache_bytes_windowed, avg_seq_len):
    """KV-cache bytes read per decoded token of an interleaved local/global model: the
    sequence's whole cache at the average context.

    Notes
    -----
    - Replaces ``kv_read`` (same unit): a new token's query reads every cached key and value of
      its own sequence, which for local layers is at most the window.
    - The window caps the average context (min(S_avg, W)): exact once the context exceeds
      the window during the whole generation, slightly high otherwise.

    Examples
    --------
    >>> q = kv_read_windowed(global_layers=10, local_layers=52, n_kv_heads=16, head_dim=128,
    ...                      kv_bytes="bf16", avg_seq_len=10000, sliding_window=1024)
    >>> print(f"{q.to('GB/token'):.4g~P}")
    1.255 GB/tok
    """
    return kv_cache_bytes_windowed.at(seq_len=avg_seq_len, batch=1)


# ----------------------------------------------------------------------------- attention FLOPs
@formula(
    unit="FLOP",
    latex=r"C_{QK^{\top}}^{\mathrm{heads}}",
    text="C_QK^heads",
    source="seed: Transformer Forward Pass / Attention / QK^T, with the real head width "
    "n_h x d_h (HF configs and model cards: head_dim explicit)",
    replaces="qk_flops",
    feature="explicit_heads",
)
def qk_flops_heads(qk_flops, n_heads, head_dim):
    """FLOPs of the attention scores QK^T in one layer, over the query heads' real width
    n_h x d_h instead of hidden.

    Notes
    -----
    - Every query head scores against its group's keys: n_q S d_h multiply-accumulates per
      head, whatever the number of KV heads (GQA saves cache and bandwidth, not these FLOPs).
    - Equal to the seed's count when n_h d_h = hidden (Llama); twice it for Qwen3-235B-A22B
      (64 x 128 on a 4,096-wide model), 0.76x for Gemma-3-27B (32 x 128 vs 5,376).

    Examples
    --------
    >>> q = qk_flops_heads(query_tokens=1, seq_len=10000, n_heads=64, head_dim=128)
    >>> print(q.to("MFLOP"))
    163.84 MFLOP
    """
    return qk_flops.at(hidden=n_heads * head_dim)


@formula(
    unit="FLOP",
    latex=r"C_{AV}^{\mathrm{heads}}",
    source="seed: Transformer Forward Pass / Attention / Attention @ V, with the real head "
    "width n_h x d_h (HF configs and model cards: head_dim explicit)",
    replaces="av_flops",
    feature="explicit_heads",
)
def av_flops_heads(av_flops, n_heads, head_dim):
    """FLOPs of weighting the values (A @ V) in one layer, over the heads' real width n_h x d_h.

    Notes
    -----
    - Each query head combines its group's values: n_q S d_h multiply-accumulates per head.

    Examples
    --------
    >>> q = av_flops_heads(query_tokens=1, seq_len=10000, n_heads=64, head_dim=128)
    >>> print(q.to("MFLOP"))
    163.84 MFLOP
    """
    return av_flops.at(hidden=n_heads * head_dim)


@formula(
    unit="FLOP",
    latex=r"C_{QK^{\top}}^{\mathrm{MLA}}",
    text="C_QK^MLA",
    source="DeepSeek-V2 technical report (arXiv:2405.04434), section 2.1 (query/key width "
    "d_h + d_h^R per head)",
    replaces="qk_flops",
    feature="mla",
)
def qk_flops_mla(qk_flops, n_heads, qk_nope_head_dim, qk_rope_head_dim):
    """FLOPs of the attention scores of one MLA layer: each head's query and key are
    d_h^N + d_h^R wide (the decompressed part and the rotary part).

    Notes
    -----
    - Counted as MLA computes attention in prefill, with keys decompressed per head
      (DeepSeek-V3: 128 heads x (128 + 64) = 24,576 wide).
    - Decode kernels may instead absorb the up-projections and score against the cached
      latent directly (width d_c + d_h^R per head): fewer bytes moved, more FLOPs.

    Examples
    --------
    >>> q = qk_flops_mla(query_tokens=1, seq_len=10000, n_heads=128, qk_nope_head_dim=128,
    ...                  qk_rope_head_dim=64)
    >>> print(q.to("MFLOP"))
    491.52 MFLOP
    """
    return qk_flops.at(hidden=n_heads * (qk_nope_head_dim + qk_rope_head_dim))


@formula(
    unit="FLOP",
    latex=r"C_{AV}^{\mathrm{MLA}}",
    source="DeepSeek-V2 technical report (arXiv:2405.04434), section 2.1 (value width d_h "
    "per head)",
    replaces="av_flops",
    feature="mla",
)
def av_flops_mla(av_flops, n_heads, v_head_dim):
    """FLOPs of weighting the values in one MLA layer: each head's values are d_v wide.

    Notes
    -----
    - DeepSeek-V3: 128 heads x 128 = 16,384 wide, narrower than its 24,576-wide scores.
    - Same convention as ``qk_flops_mla`` (values decompressed per head).

    Examples
    --------
    >>> q = av_flops_mla(query_tokens=1, seq_len=10000, n_heads=128, v_head_dim=128)
    >>> print(q.to("MFLOP"))
    327.68 MFLOP
    """
    return av_flops.at(hidden=n_heads * v_head_dim)


@formula(
    unit="FLOP",
    latex=r"C_{\mathrm{attn}}^{\mathrm{win}}",
    source="seed: Transformer Forward Pass / Attention; HF configs and model cards "
    "(sliding-window layers)",
    replaces="attention_flops",
    feature="sliding_window",
)
def attention_flops_windowed(attention_flops, global_layers, local_layers, windowed_seq_len):
    """Attention FLOPs of a model with global and sliding-window layers: the local layers
    attend to at most the window.

    Notes
    -----
    - Replaces ``attention_flops`` (same unit) in prefill and decode.
    - Like the seed's count, causal masking is ignored: in prefill every query of a local
      layer is counted against min(S, W) keys, although the first W queries see fewer.
    - Gemma-3-27B at a 32K prompt: 52 of its 62 layers score 1,024 keys instead of 32,768.

    Examples
    --------
    >>> q = attention_flops_windowed(global_layers=10, local_layers=52, query_tokens=1,
    ...                              seq_len=32768, sliding_window=1024, hidden=5376)
    >>> print(f"{q.to('GFLOP'):.4g~P}")
    8.191 GFLOP
    """
    return attention_flops.at(layers=global_layers) + attention_flops.at(
        layers=local_layers, seq_len=windowed_seq_len
    )
