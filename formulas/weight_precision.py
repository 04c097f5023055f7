"""Weights at several precisions: block-scaled formats and per-component precisions.

Real checkpoints do not store every weight alike.  gpt-oss keeps its routed experts in MXFP4
(4-bit values with a shared 8-bit scale per 32) and everything else in BF16; DeepSeek-V3 ships
FP8 with a float32 scale per 128 x 128 block and BF16 embeddings; AWQ and GPTQ INT4 checkpoints
keep an FP16 scale and a 4-bit zero point per group of 128 and leave the embeddings and the
head in FP16.  Two things follow:

* a block-scaled format costs its scales too: :func:`quantized_bytes_per_param` (the named
  precisions ``mxfp4``, ``fp8_block128`` and ``int4_g128`` are its values);
* the weights split into three classes with their own precision: the routed experts
  (``expert_bytes``), the input embedding and the output head (``embedding_bytes``), and the
  rest (``bytes_per_param``: attention, dense and shared-expert MLPs, norms, routers).  A
  scenario whose classes differ has the ``mixed_weights`` feature; its variants add, to each
  figure of the weights, the classes' difference from ``bytes_per_param``.  Where the classes
  agree the seed's one-precision formulas stand.

Norms, routers and biases are counted at ``bytes_per_param``: checkpoints keep them in 16 bits,
and they are under 0.1 % of any model's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmphys import (  # noqa: F401  (parts)
    memory,
    moe,
    moe_params,
    parallel,
    parallel_time,
    param_counts,
)
from llmphys.engine import Formula, formula, registry
from llmphys.features import MIXED_WEIGHTS

__all__ = [
    "active_weight_bytes_mixed",
    "active_weight_bytes_mixed_moe",
    "active_weights_per_gpu_mixed",
    "active_weights_per_gpu_mixed_moe",
    "expert_slice_params_per_gpu",
    "extra_expert_read_mixed",
    "quantized_bytes_per_param",
    "weight_bytes_mixed",
    "weight_bytes_mixed_moe",
    "weights_per_gpu_mixed",
    "weights_per_gpu_mixed_moe",
]

_CLASSES = (
    "per-component precisions (HF configs and model cards: gpt-oss experts in MXFP4, the rest BF16)"
)


def _moved(figure, params, bytes_per_param, own_bytes):
    """``figure`` (its weights counted at b_w) with ``params`` of them moved to their class's own
    precision: the one rule every mixed-weights variant below applies to its base figure."""
    return figure + (own_bytes - bytes_per_param) * params


def _variant(replaces: str, *, per_gpu: bool = False) -> Callable[[Callable[..., Any]], Formula]:
    """The ``@formula`` of a variant below: ``replaces``, a figure of the weights in bytes, with
    a class of its weights at the class's own precision.

    A variant of a one-precision figure stands under the ``mixed_weights`` feature, its symbol
    the figure's with the superscript mix; a variant of one of those (a mixture of experts' routed
    experts moved too) under ``moe``, its symbol the figure's with mix,MoE.  A figure per GPU
    (``per_gpu``) also cites Megatron's split of the weights.
    """
    figure, feature, superscript = registry[replaces], MIXED_WEIGHTS, "mix"
    if figure.feature == MIXED_WEIGHTS:
        figure, feature, superscript = registry[figure.replaces], "moe", "mix,MoE"
    return formula(
        unit="byte",
        latex=rf"{figure.entry.latex}^{{\mathrm{{{superscript}}}}}",
        text=f"{figure.entry.text}^{superscript}",
        source=f"{_CLASSES}; {parallel.MEGATRON}" if per_gpu else _CLASSES,
        replaces=replaces,
        feature=feature,
    )


# ----------------------------------------------------------------------------- scaled formats
@formula(
    unit="byte/parameter",
    latex=r"b_{\mathrm{q}}",
    source="OCP Microscaling Formats (MX) v1.0; DeepSeek-V3 README_WEIGHTS.md; AutoAWQ "
    "(llmphys.precisions.FORMATS cites each)",
)
def quantized_bytes_per_param(element_bytes, scale_bytes, group_size):
    """Bytes per stored weight of a block-scaled format: the value itself plus its share of the
    scale (and zero point) its group keeps.

    Notes
    -----
    - MXFP4: 0.5 B + 1 B / 32 = 0.53125 B (4.25 bits).  FP8 with a float32 scale per 128 x 128
      block: 1 B + 4 B / 16,384 (8.002 bits).  INT4 with an FP16 scale and a 4-bit zero point
      per 128: 0.5 B + 2.5 B / 128 (4.156 bits).

    Examples
    --------
    >>> print(quantized_bytes_per_param(element_bytes=0.5, scale_bytes=1, group_size=32))
    0.53125 B/param
    """
    return element_bytes + scale_bytes / group_size


# ----------------------------------------------------------------------------- stored weights
@_variant("weight_bytes")
def weight_bytes_mixed(weight_bytes, embedding_matrices, embedding_params, bytes_per_param,
                       embedding_bytes):  # fmt: skip
    """Bytes of the stored weights when the embeddings and the head have their own precision.

    Notes
    -----
    - Replaces ``weight_bytes`` in a scenario with mixed weights: every parameter at b_w, then
      the n_emb vocabulary tables moved to b_emb.
    - Llama-3.1-8B in AWQ INT4 (g128) with FP16 tables: 5.73 GB, not the 4.17 GB of INT4 alone.

    Examples
    --------
    >>> q = weight_bytes_mixed(params=8030261248, bytes_per_param="int4_g128",
    ...     embedding_matrices=2, vocab_size=128256, hidden=4096, embedding_bytes="fp16")
    >>> print(f"{q.to('GB'):.4g~P}")
    5.727 GB
    """
    return _moved(weight_bytes, embedding_matrices * embedding_params, bytes_per_param,
                  embedding_bytes)  # fmt: skip


@_variant("weight_bytes_mixed")
def weight_bytes_mixed_moe(weight_bytes_mixed, moe_layers, n_experts, expert_params,
                           bytes_per_param, expert_bytes):  # fmt: skip
    """Bytes of the stored weights of a mixture of experts whose routed experts have their own
    precision.

    Notes
    -----
    - Replaces ``weight_bytes_mixed`` for a mixture of experts: the L_MoE E routed experts moved
      from b_w to b_e.
    - gpt-oss-120b: experts in MXFP4, the rest in BF16: 65.19 GB = 60.71 GiB (its model card:
      a 60.8 GiB checkpoint).

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["gpt-oss-120b"]  # as released: experts in MXFP4, the rest in BF16
    >>> q = m.evaluate("weight_bytes_mixed_moe", **m.precisions)
    >>> print(f"{q.to('GiB'):.4g~P}")
    60.71 GiB
    """
    return _moved(weight_bytes_mixed, moe_layers * n_experts * expert_params, bytes_per_param,
                  expert_bytes)  # fmt: skip


# ----------------------------------------------------------------------------- read per step
@_variant("active_weight_bytes")
def active_weight_bytes_mixed(active_weight_bytes, embedding_params, bytes_per_param,
                              embedding_bytes):  # fmt: skip
    """Bytes of the weights one token uses when the head has its own precision: the active
    parameters at b_w, the head (a V x d matmul) moved to b_emb.

    Notes
    -----
    - The input embedding is a row lookup, not part of the active parameters.

    Examples
    --------
    >>> q = active_weight_bytes_mixed(active_params=7504924672, bytes_per_param="int4_g128",
    ...     vocab_size=128256, hidden=4096, embedding_bytes="fp16")
    >>> print(f"{q.to('GB'):.4g~P}")
    4.677 GB
    """
    return _moved(active_weight_bytes, embedding_params, bytes_per_param, embedding_bytes)


@_variant("active_weight_bytes_mixed")
def active_weight_bytes_mixed_moe(active_weight_bytes_mixed, moe_layers, experts_per_token,
                                  expert_params, bytes_per_param, expert_bytes):  # fmt: skip
    """Bytes of the weights one token of a mixture of experts uses when the routed experts have
    their own precision: its k experts per layer moved to b_e.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["gpt-oss-120b"]  # as released: experts in MXFP4, the rest in BF16
    >>> q = m.evaluate("active_weight_bytes_mixed_moe", **m.precisions)
    >>> print(f"{q.to('GB'):.4g~P}")
    5.001 GB
    """
    experts = moe_layers * experts_per_token * expert_params
    return _moved(active_weight_bytes_mixed, experts, bytes_per_param, expert_bytes)


@_variant("extra_expert_read")
def extra_expert_read_mixed(extra_expert_read, expert_bytes):
    """Expert-weight bytes a decode step reads beyond one token's experts, at the experts'
    own precision.

    Examples
    --------
    >>> q = extra_expert_read_mixed(moe_layers=36, n_experts=128, experts_per_token=4,
    ...     batch=8, hidden=2880, moe_intermediate_size=2880, expert_bytes="mxfp4")
    >>> print(f"{q.to('GB'):.4g~P}")
    11.76 GB
    """
    return extra_expert_read.at(bytes_per_param=expert_bytes)


# ----------------------------------------------------------------------------- per GPU
@_variant("weights_per_gpu", per_gpu=True)
def weights_per_gpu_mixed(weights_per_gpu, embedding_params_per_gpu, bytes_per_param,
                          embedding_bytes):  # fmt: skip
    """Weight bytes one GPU holds when the embeddings and the head have their own precision.

    Examples
    --------
    >>> import llmphys as F
    >>> q = F.models["llama-3.1-8b"].evaluate(
    ...     "weights_per_gpu_mixed", bytes_per_param="int4_g128", embedding_bytes="fp16", tp=2,
    ...     pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    2.864 GB
    """
    return _moved(weights_per_gpu, embedding_params_per_gpu, bytes_per_param, embedding_bytes)


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{e,GPU}}",
    source=f"{parallel.MEGATRON}; {parallel.PIPELINE}",
)
def expert_slice_params_per_gpu(moe_layers, expert_params, layers, hidden, gpus_per_stage):
    """Parameters one GPU holds of one routed expert, per layer of the model: the expert layers'
    share L_MoE / L of one expert, split over the stage's GPUs.

    Notes
    -----
    - Times the stage's layers L_stage and E: the routed experts a GPU stores; times L_stage
      and k: those it reads for one token.  The stage's n_stage GPUs split them (slices of
      every expert, or whole experts), as ``params_per_gpu`` counts them.

    Examples
    --------
    >>> q = expert_slice_params_per_gpu(moe_layers=36, hidden=2880, moe_intermediate_size=2880,
    ...     layers=36, tp=2, ep=1)
    >>> print(f"{q.to('Mparam'):.4g~P}")
    12.44 Mparam
    """
    return moe_layers / layers * expert_params.at(hidden=hidden / gpus_per_stage)


@_variant("weights_per_gpu_mixed", per_gpu=True)
def weights_per_gpu_mixed_moe(weights_per_gpu_mixed, n_experts, layers_per_stage,
                              expert_slice_params_per_gpu, bytes_per_param,
                              expert_bytes):  # fmt: skip
    """Weight bytes one GPU of a mixture of experts holds when the routed experts have their own
    precision: its share of the E experts per layer moved to b_e.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["gpt-oss-120b"]  # as released: experts in MXFP4, the rest in BF16
    >>> q = m.evaluate("weights_per_gpu_mixed_moe", **m.precisions, tp=2, pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    32.6 GB
    """
    experts = n_experts * layers_per_stage * expert_slice_params_per_gpu
    return _moved(weights_per_gpu_mixed, experts, bytes_per_param, expert_bytes)


@_variant("active_weights_per_gpu", per_gpu=True)
def active_weights_per_gpu_mixed(active_weights_per_gpu, embedding_params, tp, bytes_per_param,
                                 embedding_bytes):  # fmt: skip
    """Weight bytes one GPU reads per decode step for one token when the head has its own
    precision: its 1 / n_TP of the head moved to b_emb.

    Examples
    --------
    >>> import llmphys as F
    >>> q = F.models["llama-3.1-8b"].evaluate(
    ...     "active_weights_per_gpu_mixed", bytes_per_param="int4_g128", embedding_bytes="fp16",
    ...     tp=2, pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    2.338 GB
    """
    return _moved(active_weights_per_gpu, embedding_params / tp, bytes_per_param, embedding_bytes)


@_variant("active_weights_per_gpu_mixed", per_gpu=True)
def active_weights_per_gpu_mixed_moe(active_weights_per_gpu_mixed, experts_per_token,
                                     layers_per_stage, expert_slice_params_per_gpu,
                                     bytes_per_param, expert_bytes):  # fmt: skip
    """Weight bytes one GPU of a mixture of experts reads per decode step for one token when the
    routed experts have their own precision: its share of the token's k experts moved to b_e.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["gpt-oss-120b"]  # as released: experts in MXFP4, the rest in BF16
    >>> q = m.evaluate("active_weights_per_gpu_mixed_moe", **m.precisions, tp=2, pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    2.501 GB
    """
    experts = experts_per_token * layers_per_stage * expert_slice_params_per_gpu
    return _moved(active_weights_per_gpu_mixed, experts, bytes_per_param, expert_bytes)
