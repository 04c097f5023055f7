"""Derivations: every formula shows its work in text, LaTeX, Markdown and a dict; the seed's
worked examples read like the seed; partial derivations simplify in the free symbols."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import sympy

import llmphys as F
from llmphys.errors import InputError

from support import defaults_for

KV = dict(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16", seq_len=10000, batch=1)
# the seed's multi-head figures: KV width n_kv x d_h = 64 x 128 = hidden
SEED_KV = dict(KV, n_kv_heads=64)


@pytest.mark.parametrize("name", sorted(F.registry))
def test_every_formula_derives_in_all_renderings(name):
    f = F.registry[name]
    values = defaults_for(f)
    d = f.derive(**values)
    text = str(d)
    assert text.startswith(f"{f.entry.text}: ")
    assert "\nResult\n" in text
    assert d._repr_latex_().startswith("$$\n\\begin{aligned}")
    assert "\\end{aligned}\n$$" in d._repr_markdown_()
    data = json.loads(json.dumps(d.to_dict()))
    assert data["formula"] == name
    assert data["result"]["value"] == pytest.approx(f(**values).magnitude, rel=1e-12)
    assert not d.is_partial and d.free == []


def test_kv_cache_text_exact():
    assert str(F.kv_cache_bytes.derive(**KV)) == (
        "M_KV: Bytes of the KV cache: bytes per token times cached tokens times sequences\n"
        "\n"
        "Definition\n"
        "  M_KV   = m_kv · S · B\n"
        "    m_kv = 2 · L · n_kv · d_h · b_kv\n"
        "\n"
        "Values\n"
        "  L    = 80                     number of transformer layers\n"
        "  n_kv = 8                      number of key/value heads (= query heads for MHA, fewer "
        "for GQA, 1 for MQA)\n"
        "  d_h  = 128                    width of one attention head (not always hidden / heads)\n"
        "  S    = 10000                  context length: tokens held in the KV cache per sequence\n"
        "  B    = 1                      sequences processed together (batch size)\n"
        "  b_kv = 2 B/element (bf16)     bytes per KV-cache element (KV precision, independent of "
        "the weights')\n"
        "\n"
        "Substituted\n"
        "  m_kv = 2 · 80 · 8 · 128 · (2 B/element) = 328 kB/tok\n"
        "  M_KV = (328 kB/tok) · 10000 · 1 = 3.28 GB\n"
        "\n"
        "Result\n"
        "  M_KV = 3.28 GB"
    )


def test_kv_cache_latex_exact():
    assert F.kv_cache_bytes.derive(**KV).latex() == (
        "\\begin{aligned}\n"
        "M_{\\mathrm{KV}} &= m_{\\mathrm{kv}} \\cdot S \\cdot B \\\\\n"
        "m_{\\mathrm{kv}} &= 2 \\cdot L \\cdot n_{\\mathrm{kv}} \\cdot d_{\\mathrm{h}} \\cdot "
        "b_{\\mathrm{kv}} \\\\[6pt]\n"
        "L &= 80 \\\\\n"
        "n_{\\mathrm{kv}} &= 8 \\\\\n"
        "d_{\\mathrm{h}} &= 128 \\\\\n"
        "S &= 10000 \\\\\n"
        "B &= 1 \\\\\n"
        "b_{\\mathrm{kv}} &= 2\\,\\mathrm{B/element} \\\\[6pt]\n"
        "m_{\\mathrm{kv}} &= 2 \\cdot 80 \\cdot 8 \\cdot 128 \\cdot 2\\,\\mathrm{B/element} = "
        "328\\,\\mathrm{kB/tok} \\\\\n"
        "M_{\\mathrm{KV}} &= 328\\,\\mathrm{kB/tok} \\cdot 10000 \\cdot 1 = 3.28\\,\\mathrm{GB} "
        "\\\\[6pt]\n"
        "M_{\\mathrm{KV}} &= 3.28\\,\\mathrm{GB}\n"
        "\\end{aligned}"
    )


def test_total_vram_text_exact():
    d = F.total_vram.derive(params=70e9, bytes_per_param="bf16", workspace_fraction=0.12, **KV)
    text = str(d)
    assert text.split("\n\nValues\n")[0] == (
        "M_total: Accelerator memory needed: weights plus KV cache plus workspace\n"
        "\n"
        "Definition\n"
        "  M_total  = M_w + M_KV + M_ws\n"
        "    M_w    = N · b_w\n"
        "    M_KV   = m_kv · S · B\n"
        "      m_kv = 2 · L · n_kv · d_h · b_kv\n"
        "    M_ws   = M_w · f_ws"
    )
    assert text.split("\n\nSubstituted\n")[1] == (
        "  M_w     = 70e9 · (2 B/param) = 140 GB\n"
        "  m_kv    = 2 · 80 · 8 · 128 · (2 B/element) = 328 kB/tok\n"
        "  M_KV    = (328 kB/tok) · 10000 · 1 = 3.28 GB\n"
        "  M_ws    = (140 GB) · 0.12 = 16.8 GB\n"
        "  M_total = 140 GB + 3.28 GB + 16.8 GB = 160 GB\n"
        "\n"
        "Result\n"
        "  M_total = 160 GB"
    )


def test_total_vram_latex_exact():
    d = F.total_vram.derive(params=70e9, bytes_per_param="bf16", workspace_fraction=0.12, **KV)
    latex = d.latex()
    assert latex.startswith(
        "\\begin{aligned}\n"
        "M_{\\mathrm{total}} &= M_{\\mathrm{w}} + M_{\\mathrm{KV}} + M_{\\mathrm{ws}} \\\\\n"
        "M_{\\mathrm{w}} &= N \\cdot b_{\\mathrm{w}} \\\\\n"
    )
    assert latex.endswith(
        "M_{\\mathrm{total}} &= 140\\,\\mathrm{GB} + 3.28\\,\\mathrm{GB} + 16.8\\,\\mathrm{GB} = "
        "160\\,\\mathrm{GB} \\\\[6pt]\n"
        "M_{\\mathrm{total}} &= 160\\,\\mathrm{GB}\n"
        "\\end{aligned}"
    )


def test_ttft_text_and_latex_exact():
    d = F.ttft.derive(
        prefill_time=8.3,
        batch=1,
        prefill_bytes=143.3e9,
        effective_bandwidth=2.039e12,
        overhead=0.08,
    )
    assert str(d) == (
        "t_TTFT: Time to first token: the prefill step time plus a fixed overhead\n"
        "\n"
        "Definition\n"
        "  t_TTFT           = t_prefill,step + t_0\n"
        "    t_prefill,step = max(t_prefill,C, t_prefill,M)\n"
        "      t_prefill,C  = t_prefill · B\n"
        "      t_prefill,M  = D_prefill/BW_eff\n"
        "\n"
        "Values\n"
        "  BW_eff    = 2.039 TB/s             Effective memory bandwidth: the peak bandwidth times "
        "the achieved fraction (MBU)\n"
        "  t_prefill = 8.3 s                  Time to prefill a prompt: its FLOPs over the "
        "effective FLOP rate\n"
        "  D_prefill = 143.3 GB               HBM bytes one prefill step moves: the weights once, "
        "the prompts' new KV cache, and the attention scores unless attention is fused\n"
        "  B         = 1                      sequences processed together (batch size)\n"
        "  t_0       = 0.08 s                 fixed time-to-first-token overhead (scheduling, "
        "tokenization, launch)\n"
        "\n"
        "Substituted\n"
        "  t_prefill,C    = (8.3 s) · 1 = 8.3 s\n"
        "  t_prefill,M    = (143 GB)/(2.04 TB/s) = 70.3 ms\n"
        "  t_prefill,step = max(8.3 s, 70.3 ms) = 8.3 s\n"
        "  t_TTFT         = 8.3 s + 0.08 s = 8.38 s\n"
        "\n"
        "Result\n"
        "  t_TTFT = 8.38 s"
    )
    assert d.latex() == (
        "\\begin{aligned}\n"
        "t_{\\mathrm{TTFT}} &= t_{\\mathrm{prefill,step}} + t_{0} \\\\\n"
        "t_{\\mathrm{prefill,step}} &= \\max\\left(t_{\\mathrm{prefill,C}}, "
        "t_{\\mathrm{prefill,M}}\\right) \\\\\n"
        "t_{\\mathrm{prefill,C}} &= t_{\\mathrm{prefill}} \\cdot B \\\\\n"
        "t_{\\mathrm{prefill,M}} &= \\frac{D_{\\mathrm{prefill}}}{\\mathit{BW}_{\\mathrm{eff}}} "
        "\\\\[6pt]\n"
        "\\mathit{BW}_{\\mathrm{eff}} &= 2.039\\,\\mathrm{TB/s} \\\\\n"
        "t_{\\mathrm{prefill}} &= 8.3\\,\\mathrm{s} \\\\\n"
        "D_{\\mathrm{prefill}} &= 143.3\\,\\mathrm{GB} \\\\\n"
        "B &= 1 \\\\\n"
        "t_{0} &= 0.08\\,\\mathrm{s} \\\\[6pt]\n"
        "t_{\\mathrm{prefill,C}} &= 8.3\\,\\mathrm{s} \\cdot 1 = 8.3\\,\\mathrm{s} \\\\\n"
        "t_{\\mathrm{prefill,M}} &= \\frac{143\\,\\mathrm{GB}}{2.04\\,\\mathrm{TB/s}} = "
        "70.3\\,\\mathrm{ms} \\\\\n"
        "t_{\\mathrm{prefill,step}} &= \\max\\left(8.3\\,\\mathrm{s}, 70.3\\,\\mathrm{ms}\\right) "
        "= 8.3\\,\\mathrm{s} \\\\\n"
        "t_{\\mathrm{TTFT}} &= 8.3\\,\\mathrm{s} + 0.08\\,\\mathrm{s} = 8.38\\,\\mathrm{s} "
        "\\\\[6pt]\n"
        "t_{\\mathrm{TTFT}} &= 8.38\\,\\mathrm{s}\n"
        "\\end{aligned}"
    )


def _step_values(d) -> dict[str, tuple[float, str]]:
    return {s["name"]: (s["value"], s["unit"]) for s in d.to_dict()["steps"]}


def test_seed_prefill_reads_like_the_seed():
    # seed, Total Prefill FLOPs / Example (Llama 3.1 70B, 10K prompt):
    # Dense 1.4e15, Attention 2.6e14, Total ~1.66 PFLOPs; TTFT at 200 TFLOPS 8.3 s
    d = F.prefill_time.derive(
        active_params=70e9,
        layers=80,
        prompt_len=10000,
        hidden=8192,
        effective_flops=200e12,
        causal_factor=1,
    )
    text = str(d)
    assert "C_dense   = 2 · 70e9 · 10000 FLOP = 1.4e15 FLOP" in text
    assert "C_attn    = 80 · (1.64e12 FLOP + 1.64e12 FLOP) = 2.62e14 FLOP" in text
    assert "C_prefill = 1.4e15 FLOP + (2.62e14 FLOP) · 1 = 1.66e15 FLOP" in text
    assert "t_prefill = (1.66e15 FLOP)/(200 TFLOP/s) = 8.31 s" in text
    steps = _step_values(d)
    assert round(steps["dense_flops"][0] / 1e15, 1) == 1.4
    assert round(steps["attention_flops"][0] / 1e14, 1) == 2.6
    assert round(steps["prefill_flops"][0] / 1e15, 2) == 1.66
    assert round(d.result.to("s").magnitude, 1) == 8.3


def test_seed_decode_per_token():
    # seed, Total Decode FLOPs / Example (10K context): 140 + 26 = 166 GFLOPs per token
    d = F.decode_flops.derive(active_params=70e9, layers=80, avg_seq_len=10000, hidden=8192)
    steps = _step_values(d)
    assert steps["dense_flops"][0] == pytest.approx(140e9)
    assert round(steps["attention_flops"][0] / 1e9) == 26
    assert round(steps["decode_flops"][0] / 1e9) == 166
    assert "Result\n  C_decode = 166 GFLOP/tok" in str(d)


def test_seed_total_vram():
    # seed, Total VRAM / Example: 140 + 26 + 17 = ~183 GB (MHA KV figures)
    d = F.total_vram.derive(params=70e9, bytes_per_param="bf16", workspace_fraction=0.12, **SEED_KV)
    assert "M_total = 140 GB + 26.2 GB + 16.8 GB = 183 GB" in str(d)


def test_seed_conservative_bandwidth():
    # seed, Total Bandwidth (Conservative): 140 + 26 = 166 GB per token, x 10 = 1660 GB/s
    d = F.bandwidth_conservative.derive(
        active_params=70e9,
        bytes_per_param="bf16",
        batch=1,
        avg_seq_len=10000,
        throughput=10,
        **{k: v for k, v in SEED_KV.items() if k not in ("seq_len", "batch")},
    )
    text = str(d)
    assert "D_w     = (140 GB)/1 = 140 GB/tok" in text
    assert "D_KV,r  = 10000 · (2.62 MB/tok) = 26.2 GB/tok" in text
    assert "D_tok   = 140 GB/tok + 26.2 GB/tok = 166 GB/tok" in text
    assert "BW_cons = (166 GB/tok) · (10 tok/s) = 1.66 TB/s" in text


def test_partial_derivation_simplifies_in_the_free_symbol():
    d = F.kv_cache_bytes.derive(layers=80, n_kv_heads=8, head_dim=128, kv_bytes=2, batch=1)
    S = F.glossary.symbol("seq_len")
    assert d.is_partial and d.free == ["seq_len"]
    assert sympy.simplify(d.result - 327680 * S) == 0
    assert str(d).endswith("Result\n  M_KV = (327680 · S) B\n  (free: S [tok])")
    assert d.to_dict()["result"]["free"] == ["seq_len"]


def test_partial_derivation_with_two_free_symbols():
    d = F.total_vram.derive(
        params=70e9,
        bytes_per_param=0.5,
        layers=80,
        n_kv_heads=8,
        head_dim=128,
        kv_bytes=2,
        workspace_fraction=0.12,
    )
    S, B = F.glossary.symbol("seq_len"), F.glossary.symbol("batch")
    assert d.free == ["seq_len", "batch"]
    assert sympy.simplify(d.result - (39.2e9 + 327680 * S * B)) == 0


def test_explain_adds_the_rationale():
    plain = str(F.kv_cache_bytes.derive(**KV))
    explained = str(F.kv_cache_bytes.derive(explain=True, **KV))
    assert "Factor 2: separate K and V tensors are cached." not in plain
    assert "      - Factor 2: separate K and V tensors are cached." in explained
    md = F.kv_cache_bytes.derive(explain=True, **KV)._repr_markdown_()
    assert "- Factor 2: separate K and V tensors are cached." in md


def test_binary_units_on_request():
    d = F.weight_bytes.derive(params=70e9, bytes_per_param=2, binary=True)
    assert str(d).endswith("Result\n  M_w = 130 GiB")
    # the substituted lines follow too (memory only: rates stay decimal)
    total = F.total_vram.derive(params=70e9, bytes_per_param="bf16", workspace_fraction=0.12,
                                binary=True, **KV)
    assert "  M_total = 130 GiB + 3.05 GiB + 15.6 GiB = 149 GiB" in str(total)
    assert (
        F.weight_bytes.derive(params=70e9, bytes_per_param=2).to_dict()["result"]["readable"]
        == "140 GB"
    )


def test_units_upright_symbols_italic_in_latex():
    latex = F.prefill_flops.derive(
        active_params=70e9, layers=80, prompt_len=10000, hidden=8192, causal_factor=0.5
    ).latex()
    assert "\\,\\mathrm{FLOP}" in latex
    # symbols are never wrapped in \mathrm as a whole, and python names never appear
    assert "\\mathrm{L}" not in latex and "prompt_len" not in latex and "active" not in latex
    assert re.search(r"N_\{\\mathrm\{a\}\}", latex)


def test_arrays_are_refused():
    with pytest.raises(InputError, match="derive shows single values; argument 'batch' is an"):
        F.kv_cache_bytes.derive(**{**KV, "batch": np.array([1, 2])})


def test_two_instances_of_one_formula_are_told_apart():
    # Gemma-3: the global layers cache the context, the local ones at most the window
    gemma = F.models["gemma-3-27b"]
    f = gemma.formula("kv_cache_bytes")
    text = str(f.derive(**gemma.inputs_for(f), kv_bytes="bf16", seq_len=5000, batch=1))
    assert "M_KV^win              = M_KV[L=L_glob] + M_KV[L=L_loc,S=S_W]" in text
    assert "  M_KV[L=L_loc,S=S_W] = (426 kB/tok) · 1024 · 1 = 436 MB" in text
    assert "S_W                 = min(5000, 1024) = 1024" in text
