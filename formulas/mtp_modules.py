"""Multi-token-prediction modules: the extra blocks DeepSeek-V3, MiMo and GLM-4.5 train to
predict further tokens, counted apart from the main model.

Each module is one transformer block (a dense or an expert feed-forward block), a 2d x d
projection and three norms; it shares the embedding and the output head with the main model.
Published counts leave the modules out; they serve as a draft for speculative decoding
(:mod:`llmphys.speculative`).
"""

from __future__ import annotations

from llmphys import moe_params, param_counts  # noqa: F401  (parts below)
from llmphys.engine import formula

__all__ = [
    "mtp_ffn_params",
    "mtp_ffn_params_moe",
    "mtp_params",
]


# ----------------------------------------------------------------------------- MTP modules
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN}}^{\mathrm{MTP}}",
    source="DeepSeek-V3 technical report (arXiv:2412.19437), section 2.2 (an MTP module's "
    "transformer block); MiMo remote modeling_mimo.py (MiMoMTPLayers: a Qwen2 MLP)",
)
def mtp_ffn_params(ffn_params):
    """Feed-forward weights of one multi-token-prediction module's block: a dense block (MiMo).

    Notes
    -----
    - A mixture of experts predicts with an expert layer: ``mtp_ffn_params_moe``.

    Examples
    --------
    >>> q = mtp_ffn_params(hidden=4096, intermediate_size=11008)
    >>> print(f"{q:,.0f~P}")
    135,266,304 param
    """
    return ffn_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN}}^{\mathrm{MTP,MoE}}",
    source="DeepSeek-V3 technical report (arXiv:2412.19437), section 2.2; HF checkpoint layer "
    "61 of DeepSeek-V3 (an expert layer)",
    replaces="mtp_ffn_params",
    feature="moe",
)
def mtp_ffn_params_moe(moe_ffn_params):
    """Feed-forward weights of one multi-token-prediction module of a mixture of experts: one
    expert layer (routed and shared experts and the router).

    Examples
    --------
    >>> q = mtp_ffn_params_moe(n_experts=256, n_shared_experts=1, hidden=7168,
    ...                        moe_intermediate_size=2048)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    11.32 Gparam
    """
    return moe_ffn_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{MTP}}",
    source="DeepSeek-V3 technical report (arXiv:2412.19437), section 2.2 (MTP modules: norms "
    "of the hidden state and the next token's embedding, a 2d x d projection, one "
    "transformer block, a head norm; embedding and head shared); MiMo modeling_mimo.py",
)
def mtp_params(mtp_layers, attention_params, layer_norm_params, mtp_ffn_params, hidden):
    """Weights of the multi-token-prediction modules, outside the main model's count.

    Notes
    -----
    - Each module: one transformer block (attention, its norms, a dense or expert
      feed-forward block), a 2d x d projection of the hidden state and the next token's
      embedding concatenated, and three more d-wide norms (the two inputs' and the head's).
      Embedding and output head are shared with the main model (DeepSeek's checkpoint stores a
      copy of each in the module: 1.85B more on the hub).
    - Published counts of the main model leave them out (DeepSeek-V3: 671B; with the module and
      its copies, 685B on the hub).  They serve as a draft for speculative decoding.
    - MiMo-7B: 210,790,400 per module (its attention has q, k, v biases; without them, as
      below, 210,784,256).

    Examples
    --------
    >>> q = mtp_params(mtp_layers=1, hidden=4096, n_heads=32, n_kv_heads=8, head_dim=128,
    ...                norms_per_layer=2, intermediate_size=11008)
    >>> print(f"{q:,.0f~P}")
    210,784,256 param
    """
    return mtp_layers * (
        attention_params + layer_norm_params + mtp_ffn_params + 2 * hidden**2 + 3 * hidden
    )
