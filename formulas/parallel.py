"""Multi-GPU inference: tensor, pipeline and expert parallelism, per-GPU memory, communication
and the decode step of a layout.

The seed lists distributed inference as "not modeled"; its own examples need it (Llama 3.1 70B
"fits on 2x A100", DeepSeek-V3's 1,342 GB against 8x H100 "too small").  A layout has three
degrees (``tp``, ``pp``, ``ep``) and an interconnect (``link_bandwidth``, ``link_latency``):

* **Tensor parallelism** (Megatron-LM, Shoeybi et al. 2019) splits every layer over n_TP GPUs:
  attention by heads (q and o projections n_h / n_TP heads each; k and v by KV heads, each GPU
  keeping at least one, so they are *replicated* once n_TP > n_kv), the feed-forward block by
  columns (gate, up) and rows (down), the embedding and output head by vocabulary rows.  Norms
  stay replicated; so do MLA's shared down-projections and latent cache.  Two all-reduces of a
  token's hidden state per layer (after attention, after the feed-forward block) join the parts.
* **Pipeline parallelism** gives each of n_PP stages L / n_PP layers (the most loaded stage when
  the split is uneven: ``layers_per_stage`` may be given directly).  A token crosses the stages
  one after another: at one micro-batch, per-token latency is the *sum* over stages; with
  n_mb >= n_PP micro-batches in flight every stage is busy and throughput scales.
* **Expert parallelism** spreads the routed experts over n_EP GPUs, whole experts each.  Up to
  n_TP it reuses the tensor-parallel GPUs (each then holds 1/n_TP of the expert bytes either
  way: leave n_EP = 1, the all-reduce already combines).  Above n_TP, a stage has n_EP GPUs and
  attention runs data-parallel on n_EP / n_TP groups with their own share of the batch; tokens
  then reach their experts by all-to-all (dispatch and combine).  Dense feed-forward blocks and
  shared experts are split over the same GPUs.

What a GPU holds and reads is built from the single-GPU formulas at substituted inputs (the
parameter counts at n_h / n_TP heads, the KV cache at the KV heads one GPU keeps, the decode
memory time at one GPU's weights), so an architecture's variants (MLA, sliding windows, MoE)
carry over through ``llmphys.models[name].formula(...)``.  Communication follows the alpha-beta
model (Thakur, Rabenseifner & Gropp 2005; NCCL's own tuning model): a collective takes a
latency per hop plus its bytes over the link bandwidth.

This module holds the layout and what each GPU holds; the bytes on the wire and the collectives
are in :mod:`llmphys.communication`, the decode step and prefill of a layout in
:mod:`llmphys.parallel_time`.  The inverse questions (fewest GPUs and which n_TP x n_PP, largest
batch at a layout, the n_TP beyond which communication outweighs the memory-time saving) are in
:mod:`llmphys.sizing.layouts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy

from llmphys import latency, memory, param_counts  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = [
    "active_params_per_gpu",
    "attention_groups",
    "attention_params_per_gpu",
    "embedding_params_per_gpu",
    "gpu_count",
    "gpus_per_stage",
    "kv_cache_per_gpu",
    "kv_heads_per_gpu",
    "layer_params_per_gpu",
    "layers_per_stage",
    "microbatch_size",
    "params_per_gpu",
    "vram_per_gpu",
    "weights_per_gpu",
    "workspace_per_gpu",
]

MEGATRON = "Shoeybi et al., 'Megatron-LM' (arXiv:1909.08053), section 3 (tensor parallelism)"
PIPELINE = (
    "Narayanan et al., 'Efficient Large-Scale Language Model Training on GPU Clusters Using "
    "Megatron-LM' (SC 2021), section 2.2 (pipeline bubble)"
)
ALPHA_BETA = (
    "Thakur, Rabenseifner & Gropp, 'Optimization of Collective Communication Operations in "
    "MPICH' (IJHPCA 2005); NCCL src/graph/tuning.cc (latency per step plus bytes over bandwidth)"
)
VLLM_TP = (
    "vLLM tensor-parallel layers (QKVParallelLinear replicates KV heads when tp > n_kv; "
    "VocabParallelEmbedding, ParallelLMHead; MLA's q_a/kv_a projections replicated)"
)


# ----------------------------------------------------------------------------- the layout
@formula(
    unit="",
    latex=r"n_{\mathrm{stage}}",
    source="SGLang data-parallel attention with expert parallelism (DeepSeek-V3 serving); "
    "TensorRT-LLM moe_tp_size x moe_ep_size = tp_size",
)
def gpus_per_stage(tp, ep):
    """GPUs of one pipeline stage: the tensor-parallel group, or the expert-parallel group when
    it is larger.

    Notes
    -----
    - n_EP <= n_TP: the experts are spread over the tensor-parallel GPUs themselves (TensorRT-LLM
      requires moe_tp x moe_ep = tp), so a stage has n_TP GPUs.
    - n_EP > n_TP: a stage has n_EP GPUs; attention is tensor-parallel over n_TP of them and
      data-parallel over n_EP / n_TP such groups (``attention_groups``).

    Examples
    --------
    >>> print(gpus_per_stage(tp=1, ep=8))
    8.0
    """
    return sympy.Max(tp, ep, evaluate=False)


@formula(
    unit="",
    latex=r"n_{\mathrm{DP,attn}}",
    source="SGLang data-parallel attention (each group holds its own requests' KV cache)",
)
def attention_groups(gpus_per_stage, tp):
    """Data-parallel attention groups of a stage: 1 unless expert parallelism spans more GPUs
    than tensor parallelism.

    Notes
    -----
    - Each group runs attention for its own share of the batch and holds only those
      sequences' KV cache: the reason DeepSeek-V3 is served with data-parallel attention (its
      MLA latent cache is replicated by tensor parallelism, not split).

    Examples
    --------
    >>> print(attention_groups(tp=2, ep=8))
    4.0
    """
    return gpus_per_stage / tp


@formula(
    unit="",
    latex=r"n_{\mathrm{GPU,layout}}",
    source=MEGATRON,
)
def gpu_count(gpus_per_stage, pp):
    """GPUs of a layout: the GPUs of one stage times the pipeline stages.

    Examples
    --------
    >>> print(gpu_count(tp=8, ep=1, pp=2))
    16.0
    """
    return pp * gpus_per_stage


@formula(
    unit="",
    latex=r"L_{\mathrm{stage}}",
    source=PIPELINE,
)
def layers_per_stage(layers, pp):
    """Layers of one pipeline stage: the layers split evenly over the stages.

    Notes
    -----
    - Exact when n_PP divides L.  An uneven split (DeepSeek-V3's 61 layers over 2 stages: 31
      and 30) loads the largest stage with ceil(L / n_PP) layers: give that value for this part
      (``layers_per_stage=31``), as :func:`llmphys.sizing.layouts.fewest_gpus` does.
    - Memory, KV cache and decode time of the most loaded stage follow it.

    Examples
    --------
    >>> print(layers_per_stage(layers=80, pp=4))
    20.0
    """
    return layers / pp


@formula(
    unit="",
    latex=r"n_{\mathrm{kv,GPU}}",
    source=f"{VLLM_TP}; {MEGATRON}",
)
def kv_heads_per_gpu(n_kv_heads, tp):
    """KV heads one GPU keeps under tensor parallelism: its share, and at least one.

    Notes
    -----
    - Each GPU computes attention for n_h / n_TP query heads and needs the keys and values of
      their groups: n_kv / n_TP KV heads while n_TP <= n_kv.
    - Beyond that a KV head cannot be split: each GPU keeps one, and a KV head is *replicated*
      on n_TP / n_kv GPUs.  Llama 3.1 70B (8 KV heads) caches as much per GPU at n_TP = 16 as at
      n_TP = 8.
    - Multi-head latent attention has no KV heads: its latent is cached whole on every
      tensor-parallel GPU (the substitution does not apply to it).

    Examples
    --------
    >>> print(kv_heads_per_gpu(n_kv_heads=8, tp=16))
    1.0
    """
    return sympy.Max(n_kv_heads / tp, 1, evaluate=False)


@formula(
    unit="sequence",
    latex=r"B_{\mathrm{mb}}",
    source=PIPELINE,
)
def microbatch_size(batch, n_microbatches):
    """Sequences of one micro-batch: the batch split into n_mb micro-batches.

    Examples
    --------
    >>> print(microbatch_size(batch=64, n_microbatches=4))
    16.0 seq
    """
    return batch / n_microbatches


# ----------------------------------------------------------------------------- memory per GPU
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn,GPU}}",
    source=f"{MEGATRON}; {VLLM_TP}",
)
def attention_params_per_gpu(attention_params, kv_width, hidden, n_heads, tp, kv_heads_per_gpu):
    """Attention weights of one layer that one tensor-parallel GPU holds.

    Notes
    -----
    - The attention parameters at n_h / n_TP heads: the q and o projections are split by heads
      (column- and row-parallel), and so are MLA's per-head up-projections (q_b, kv_b) and its
      output projection.
    - The k and v projections are split by KV heads, at least one per GPU: the second term
      swaps the full KV width for the KV heads one GPU keeps, so they are *replicated* once
      n_TP > n_kv.  For MLA that term is zero: its shared down-projections (q_a, kv_a with the
      rotary key) and their norms stay replicated, as vLLM runs them.
    - Llama 3.1 70B at n_TP = 8: 2 x 8,192 x 8 x 128 for q and o plus 8,192 x 2 x 128 for
      one KV head's k and v = 18.9M of the layer's 151M.

    Examples
    --------
    >>> q = attention_params_per_gpu(hidden=8192, n_heads=64, n_kv_heads=8, head_dim=128, tp=8)
    >>> print(f"{q:,.0f~P}")
    18,874,368 param
    """
    return attention_params.at(n_heads=n_heads / tp) - hidden * (
        kv_width - kv_width.at(n_kv_heads=kv_heads_per_gpu)
    )


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{emb,GPU}}",
    source=f"{MEGATRON} (vocabulary-parallel embedding and output head); {PIPELINE}",
)
def embedding_params_per_gpu(embedding_matrices, embedding_params, pp, tp):
    """Embedding and output-head parameters one GPU of the most loaded stage holds.

    Notes
    -----
    - The vocabulary rows are split over the tensor-parallel GPUs.  With several stages the
      input embedding sits on the first, the output head on the last: a stage holds one of
      the two untied tables (n_emb / min(n_PP, n_emb)); a tied table is needed, and kept, at
      both ends.

    Examples
    --------
    >>> q = embedding_params_per_gpu(embedding_matrices=2, vocab_size=128256, hidden=8192,
    ...                              pp=1, tp=2)
    >>> print(f"{q:,.0f~P}")
    1,050,673,152 param
    """
    return (
        embedding_matrices
        / sympy.Min(pp, embedding_matrices, evaluate=False)
        * (embedding_params / tp)
    )


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{layers,GPU}}",
    source=f"{MEGATRON}; {PIPELINE}",
)
def layer_params_per_gpu(layers_per_stage, attention_params_per_gpu, layer_norm_params):
    """Attention and norm weights one GPU holds for its stage's layers: attention split by heads
    over the tensor-parallel GPUs, the norms replicated on each.

    Examples
    --------
    >>> import llmphys as F
    >>> q = F.models["llama-3.1-70b"].evaluate("layer_params_per_gpu", tp=8, pp=1)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    1.511 Gparam
    """
    return layers_per_stage * (attention_params_per_gpu + layer_norm_params)


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{GPU}}",
    source=f"{MEGATRON}; {PIPELINE}; {VLLM_TP}",
)
def params_per_gpu(
    embedding_params_per_gpu,
    layer_params_per_gpu,
    layers_per_stage,
    ffn_stack_params,
    hidden,
    gpus_per_stage,
    layers,
    final_norm_params,
):
    """Parameters one GPU of the most loaded pipeline stage holds.

    Notes
    -----
    - Embeddings: the vocabulary rows are split over the tensor-parallel GPUs
      (vocabulary-parallel embedding and output head).  With several stages the input
      embedding sits on the first, the output head on the last: a stage holds one of the two
      untied tables (n_emb / min(n_PP, n_emb)); a tied table is needed, and kept, at both ends.
    - Each of the stage's L_stage layers: attention split by heads (``attention_params_per_gpu``)
      and the norms, *replicated* on every GPU.
    - Feed-forward: the stage's share L_stage / L of the whole stack, split over the stage's
      GPUs (the stack at d / n_stage): dense blocks by columns and rows, routed experts whole
      by expert parallelism (or split by tensor parallelism: the same bytes), shared experts
      and routers with them (a router is really replicated: below 0.2 GB for DeepSeek-V3).
      DeepSeek's 3 dense layers are averaged over the stages: exact at n_PP = 1.
    - The final norm is counted on every GPU.  At n_TP = n_PP = n_EP = 1 this is the
      architecture's parameter count, exactly.

    Examples
    --------
    >>> import llmphys as F
    >>> q = F.models["llama-3.1-70b"].evaluate("params_per_gpu", tp=8, pp=1, ep=1)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    8.82 Gparam
    """
    return (
        embedding_params_per_gpu
        + layer_params_per_gpu
        + ffn_stack_params.at(hidden=hidden / gpus_per_stage) * layers_per_stage / layers
        + final_norm_params
    )


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{a,GPU}}",
    source=f"{MEGATRON}; {PIPELINE}; HF configs and model cards (active conventions)",
)
def active_params_per_gpu(
    embedding_params,
    tp,
    layer_params_per_gpu,
    layers_per_stage,
    active_ffn_stack_params,
    hidden,
    gpus_per_stage,
    layers,
    final_norm_params,
):
    """Parameters one GPU of the last pipeline stage multiplies with per token: what a decode
    step reads of its weights.

    Notes
    -----
    - As ``params_per_gpu`` with the active feed-forward weights (the routed-in experts,
      shared experts, routers and dense blocks) and without the input-embedding table, a row
      lookup; the output head (vocabulary-parallel) is read in full.  The last stage, which
      holds the head, reads the most.
    - Experts are taken as evenly loaded: each GPU reads its 1 / n_stage of the k routed-in
      experts.  At batch 1 with k < n_stage some GPUs read a whole expert and others none, and
      a larger batch touches more experts: both make the real step slower, never faster.
    - At n_TP = n_PP = n_EP = 1 this is the architecture's active parameter count, exactly.

    Examples
    --------
    >>> import llmphys as F
    >>> q = F.models["llama-3.1-70b"].evaluate("active_params_per_gpu", tp=8, pp=1, ep=1)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    8.689 Gparam
    """
    return (
        embedding_params / tp
        + layer_params_per_gpu
        + active_ffn_stack_params.at(hidden=hidden / gpus_per_stage) * layers_per_stage / layers
        + final_norm_params
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{w,GPU}}",
    source="seed: Memory Hierarchy / Model Weights ('Fits on: 2x A100 80GB'); " + MEGATRON,
)
def weights_per_gpu(params_per_gpu, bytes_per_param):
    """Weight bytes one GPU of the layout holds: its parameters times the bytes per parameter.

    Notes
    -----
    - The seed's "fits on 2x A100 80GB" for Llama 3.1 70B in BF16: 70.6 GB per GPU at n_TP = 2,
      within the 85.9 GB (80 GiB) each holds.
    - Replicated parts (norms, KV heads beyond n_kv, MLA's shared projections, embeddings over
      the pipeline ends) make this more than the even split weight_bytes / n_GPU.

    Examples
    --------
    >>> import llmphys as F
    >>> q = F.models["llama-3.1-70b"].evaluate(
    ...     "weights_per_gpu", bytes_per_param="bf16", tp=2, pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    70.56 GB
    """
    return params_per_gpu * bytes_per_param


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV,GPU}}",
    source=f"{VLLM_TP}; DeepSeek-V2 technical report (arXiv:2405.04434), Table 1 (MLA)",
)
def kv_cache_per_gpu(
    kv_cache_bytes, kv_heads_per_gpu, batch, attention_groups, layers_per_stage, layers
):
    """KV-cache bytes one GPU holds: its KV heads, its stage's layers, its attention group's
    sequences.

    Notes
    -----
    - GQA/MHA: the KV cache at the KV heads one GPU keeps (``kv_heads_per_gpu``): split by
      n_TP up to n_kv, *replicated* beyond.  Llama 3.1 70B caches the same per GPU at n_TP = 16
      as at n_TP = 8.
    - MLA: the latent (d_c + d_h^R per layer) has no heads and is cached whole on every
      tensor-parallel GPU: the KV-head substitution does not apply, n_TP does not shrink it.
      Only data-parallel attention (n_EP > n_TP) splits it, by sequences.
    - Pipeline stages hold their share L_stage / L of the layers (sliding-window models: the
      average layer).

    Examples
    --------
    >>> q = kv_cache_per_gpu(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16",
    ...                      seq_len=32768, batch=8, tp=8, ep=1, pp=1)
    >>> print(q.to("GiB"))
    10.0 GiB
    """
    return (
        kv_cache_bytes.at(n_kv_heads=kv_heads_per_gpu, batch=batch / attention_groups)
        * layers_per_stage
        / layers
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{ws,GPU}}",
    source="seed: Memory Hierarchy / Workspace / Activations (weight_bytes * 0.12), per GPU",
)
def workspace_per_gpu(workspace_fraction, weights_per_gpu):
    """Workspace one GPU needs: the seed's fraction of the weights, of the weights it holds.

    Examples
    --------
    >>> import llmphys as F
    >>> q = F.models["llama-3.1-70b"].evaluate(
    ...     "workspace_per_gpu", bytes_per_param="bf16", workspace_fraction=0.12, tp=2, pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    8.467 GB
    """
    return workspace_fraction * weights_per_gpu


@formula(
    unit="byte",
    latex=r"M_{\mathrm{GPU}}^{\mathrm{need}}",
    source="seed: Memory Hierarchy / Total VRAM, per GPU of a parallel layout",
    replaces="memory_per_gpu",
    feature="layout",
)
def vram_per_gpu(weights_per_gpu, kv_cache_per_gpu, workspace_per_gpu):
    """Memory one GPU of the layout needs: its weights, its KV cache and its workspace.

    Notes
    -----
    - The layout fits when this is within one GPU's capacity (``gpu_memory``).
    - Unlike ``memory_per_gpu`` (the total split evenly), replicated parts are counted on every
      GPU that holds them.

    Examples
    --------
    >>> print(vram_per_gpu(weights_per_gpu=70.6e9, kv_cache_per_gpu=1.6e9,
    ...                    workspace_per_gpu=8.5e9).to("GB"))
    80.7 GB
    """
    return weights_per_gpu + kv_cache_per_gpu + workspace_per_gpu
