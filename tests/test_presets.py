"""Model and hardware presets: every reference entry present, stored exactly with source and
date, loaded lazily, plugged straight into formulas; unknown names suggest the closest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import llmphys as F
from llmphys.errors import InputError, UnknownNameError
from llmphys.presets import Accelerator, Model
from llmphys.units import Q_

CASES = json.loads((Path(__file__).parent / "cases" / "architectures.json").read_text())
HARDWARE = {c["id"]: c for c in CASES["hardware"]}

# the reference models and accelerators: every one has a preset
REFERENCE_MODELS = [
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "gemma-3-27b",
    "mixtral-8x7b",
    "qwen3-235b-a22b",
    "deepseek-v3",
    "gpt-oss-120b",
]
REFERENCE_HARDWARE = [
    "a100-40gb",
    "a100-80gb",
    "h100-sxm",
    "h100-pcie",
    "h200",
    "b200",
    "mi300x",
    "l40s",
    "rtx-4090",
]


#: presets from real config.json files of 2025-26 families (issue 18), each with its source
REAL_CONFIG_MODELS = ["nemotron-3-nano-30b-a3b", "qwen3-next-80b-a3b", "deepseek-v3.2"]


def test_every_reference_model_and_accelerator():
    assert list(F.models) == REFERENCE_MODELS + REAL_CONFIG_MODELS
    assert list(F.hardware) == REFERENCE_HARDWARE
    assert len(F.models) == 11 and "deepseek-v3" in F.models and "gpt-5" not in F.models


@pytest.mark.parametrize("name", REAL_CONFIG_MODELS)
def test_real_config_presets_carry_their_source_and_exact_count(name):
    m = F.models[name]
    assert m.source.startswith("config.json of ") and m.as_of == "2026-12-06"
    assert m.published["exact_params"] == m.values["params"], m.published["exact_params_how"]


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_model_presets_carry_source_and_date(name):
    m = F.models[name]
    assert isinstance(m, Model) and m.name == name
    # its config on the hub and where its parameter count is published (never a local file)
    assert m.source.startswith("config.json of ") and m.as_of == "2026-11-29"
    assert any(w in m.source for w in ("model card", "README", "announcement"))
    assert m.published["exact_params"] == m.values["params"]
    assert m is F.models[name]  # built once


@pytest.mark.parametrize("name", REFERENCE_HARDWARE)
def test_hardware_presets_carry_source_and_date(name):
    a = F.hardware[name]
    assert isinstance(a, Accelerator) and a.name == name
    assert ("datasheet" in a.source or "data sheet" in a.source or "whitepaper" in a.source)
    assert a.as_of == "2026-11-29"
    assert a.capacity.to("byte").magnitude > 0 and a.mem_bandwidth.check("[information]/[time]")


def test_names_are_case_insensitive_and_hf_ids_work():
    assert F.models["Llama-3.1-70B"] is F.models["llama-3.1-70b"]
    assert F.models["meta-llama/Llama-3.1-70B"] is F.models["llama-3.1-70b"]
    assert F.models[" deepseek-ai/DeepSeek-V3 "] is F.models["deepseek-v3"]
    assert F.hardware["NVIDIA H100 SXM5"] is F.hardware["h100-sxm"]


# ----------------------------------------------------------------------------- unknown names
KNOWN_MODELS = ", ".join(REFERENCE_MODELS + REAL_CONFIG_MODELS)
KNOWN_HARDWARE = ", ".join(REFERENCE_HARDWARE)


@pytest.mark.parametrize(
    ("catalog", "name", "message"),
    [
        ("models", "70b", "unknown model '70b'; did you mean 'llama-3.1-70b'? "
         f"(known: {KNOWN_MODELS})"),
        ("models", "deepseek", "unknown model 'deepseek'; did you mean 'deepseek-v3' or "
         "'deepseek-v3.2'? "
         f"(known: {KNOWN_MODELS})"),
        ("models", "llama", "unknown model 'llama'; did you mean 'llama-3.1-8b', "
         f"'llama-3.1-70b' or 'llama-3.1-405b'? (known: {KNOWN_MODELS})"),
        ("models", "falcon-180b", f"unknown model 'falcon-180b' (known: {KNOWN_MODELS})"),
        ("hardware", "h100", "unknown accelerator 'h100'; did you mean 'h100-sxm', 'h100-pcie' "
         f"or 'h200'? (known: {KNOWN_HARDWARE})"),
        ("hardware", "4090", "unknown accelerator '4090'; did you mean 'rtx-4090'? "
         f"(known: {KNOWN_HARDWARE})"),
        ("hardware", "a100", "unknown accelerator 'a100'; did you mean 'a100-40gb' or "
         f"'a100-80gb'? (known: {KNOWN_HARDWARE})"),
    ],
)  # fmt: skip
def test_unknown_names_suggest_the_closest(catalog, name, message):
    with pytest.raises(UnknownNameError) as info:
        getattr(F, catalog)[name]
    assert str(info.value) == message
    assert isinstance(info.value, KeyError)


# ----------------------------------------------------------------------------- hardware facts
def test_a100_80gb_holds_80_gib():
    a100 = F.hardware["a100-80gb"]
    case = HARDWARE["a100-80gb"]
    assert a100.capacity == Q_(81920, "MiB")
    assert a100.capacity.to("GiB").magnitude == case["capacity_GiB"]
    assert round(a100.capacity.to("GB").magnitude, 1) == case["capacity_GB"]
    assert a100.capacity_label == Q_(case["label_GB"], "GB")
    assert a100.capacity_text() == '"80 GB" label = 81,920 MiB = 80 GiB = 85.9 GB'


def test_h100_sxm_dense_bf16_989_tflops():
    h100 = F.hardware["h100-sxm"]
    case = HARDWARE["h100-sxm"]
    assert h100.peak_flops("bf16").to("TFLOPS").magnitude == case["bf16_TFLOPS"]
    assert h100.peak_flops("fp8").to("TFLOPS").magnitude == case["fp8_TFLOPS"]
    assert h100.mem_bandwidth.to("GB/s").magnitude == pytest.approx(case["bandwidth_GBps"])


def test_rtx_4090_bf16_165_tflops():
    rtx = F.hardware["rtx-4090"]
    assert rtx.peak_flops("BF16").to("TFLOPS").magnitude == HARDWARE["rtx-4090"]["bf16_TFLOPS"]
    assert round(rtx.peak_flops("bf16").to("TFLOPS").magnitude) == 165
    assert any("330 TFLOPS only with FP16 accumulate" in n for n in rtx.notes)


def test_mi300x_capacity_in_bytes_and_int8_in_tops():
    mi = F.hardware["mi300x"]
    assert mi.capacity.to("byte").magnitude == HARDWARE["mi300x"]["capacity_B"]
    assert mi.capacity_label == Q_(192, "GB")
    assert mi.peak_flops("int8") == Q_(2614.9, "TOPS")
    assert mi.peak_flops("int8").to("FLOP/s").magnitude == pytest.approx(2614.9e12)


def test_a100_has_no_fp8():
    a100 = F.hardware["a100-80gb"]
    assert a100.peak["fp8"] is None and a100.precisions() == ["bf16", "fp16", "int8"]
    with pytest.raises(InputError) as info:
        a100.peak_flops("fp8")
    assert str(info.value) == (
        "accelerator 'a100-80gb' (NVIDIA A100 80GB SXM4) has no fp8 tensor cores: no dense fp8 "
        "peak; use one of bf16, fp16, int8"
    )
    with pytest.raises(InputError) as info:
        a100.peak_flops("fp32")
    assert str(info.value) == (
        "accelerator 'a100-80gb': no dense fp32 peak on record (datasheet figures: bf16, fp16, "
        "fp8, int8)"
    )
    with pytest.raises(InputError) as info:
        a100.peak_flops("bf61")
    assert str(info.value) == (
        "accelerator 'a100-80gb': unknown precision 'bf61'; did you mean 'bf16'? (known: bf16, "
        "fp16, fp8, int8)"
    )


def test_nvidia_sparse_figures_are_halved():
    for name in ("h100-sxm", "h200", "b200", "l40s"):
        assert any("sparse" in n for n in F.hardware[name].notes) or "sparse" in (
            F.hardware[name].source
        )


# ----------------------------------------------------------------------------- into formulas
def test_hardware_fills_only_its_inputs():
    h100 = F.hardware["h100-sxm"]
    assert h100.inputs_for(F.effective_flops) == {"peak_flops": Q_(989e12, "FLOP/s")}
    assert h100.inputs_for("effective_flops", precision="fp8") == {
        "peak_flops": Q_(1979e12, "FLOP/s")
    }
    assert h100.inputs_for(F.effective_bandwidth) == {"mem_bandwidth": Q_(3.35e12, "B/s")}
    assert h100.inputs_for(F.kv_cache_bytes) == {}
    q = F.effective_flops(**h100.inputs_for(F.effective_flops), utilization=0.4)
    assert q.to("TFLOPS").magnitude == pytest.approx(395.6)


def test_hardware_values_give_gpu_memory_exactly():
    values = F.hardware["a100-80gb"].values("bf16")
    assert values["gpu_memory"] == Q_(80 * 2**30, "B")
    assert values["peak_flops"] == Q_(312e12, "FLOP/s")
    assert values["mem_bandwidth"] == Q_(2039e9, "B/s")


def test_model_fills_its_values_the_rest_stay_free():
    m = F.models["llama-3.1-70b"]
    f = F.total_vram
    assert m.inputs_for(f) == {
        "params": 70553706496,
        "layers": 80,
        "n_kv_heads": 8,
        "head_dim": 128,
    }
    q = f(**m.inputs_for(f), bytes_per_param="bf16", kv_bytes="bf16", seq_len=10000, batch=1,
          workspace_fraction=0.12)  # fmt: skip
    assert q.to("GB").magnitude == pytest.approx(70553706496 * 2 * 1.12 / 1e9 + 3.2768)
    with pytest.raises(InputError, match="missing input 'seq_len'"):
        f(**m.inputs_for(f), bytes_per_param=2, kv_bytes=2, batch=1, workspace_fraction=0.12)


def test_model_inputs_for_a_name_means_its_variant():
    g = F.models["gemma-3-27b"]
    assert set(g.inputs_for("kv_cache_bytes")) == {
        "n_kv_heads",
        "head_dim",
        "sliding_window",
        "local_layers",
        "global_layers",
    }
    assert set(g.inputs_for(F.kv_cache_bytes)) == {"layers", "n_kv_heads", "head_dim"}


def test_inputs_for_leaves_out_what_a_given_part_covers():
    m = F.models["llama-3.1-70b"]
    assert m.inputs_for(F.total_vram, given=["kv_cache_bytes"]) == {"params": 70553706496}
    with pytest.raises(UnknownNameError) as info:
        m.inputs_for(F.total_vram, given=["kv_cache"])
    assert str(info.value) == (
        "formula 'total_vram': 'kv_cache' is not a part that can be given; did you mean "
        "'kv_cache_bytes'?"
    )


def test_preset_and_hardware_together():
    # Llama 3.1 70B (GQA), BF16, 10K context, the seed's 12% workspace, split over 2 A100s:
    # 80.7 GB each: more than the "80 GB" label, less than the 80 GiB = 85.9 GB it holds
    m, gpu = F.models["llama-3.1-70b"], F.hardware["a100-80gb"]
    f = F.memory_per_gpu
    q = f(**m.inputs_for(f), bytes_per_param="bf16", kv_bytes="bf16", seq_len=10000, batch=1,
          workspace_fraction=0.12, n_gpus=2)  # fmt: skip
    assert q.to("GB").magnitude == pytest.approx(80.66, abs=0.01)
    assert gpu.capacity_label < q < gpu.capacity


def test_evaluate_takes_a_part_by_its_registry_name():
    g = F.models["gemma-3-27b"]
    q = g.evaluate("total_vram", bytes_per_param=2, workspace_fraction=0.12,
                   kv_cache_bytes=Q_(1, "GB"))  # fmt: skip
    weights = g.values["params"] * 2
    assert q.to("B").magnitude == pytest.approx(weights * 1.12 + 1e9)


def test_repr_and_describe():
    assert repr(F.models["mixtral-8x7b"]) == (
        "<Model mixtral-8x7b: Mixtral-8x7B-v0.1, GQA, 8 KV heads x 128 (32 query heads), "
        "46.7B params, 12.7B active>"
    )
    assert repr(F.hardware["a100-80gb"]) == (
        '<Accelerator a100-80gb: NVIDIA A100 80GB SXM4, "80 GB" label = 81,920 MiB = 80 GiB = '
        "85.9 GB, 2039 GB/s, 312 TFLOPS BF16>"
    )
    text = F.models["gemma-3-27b"].describe()
    assert "52 of 62 layers slide over 1,024 tokens" in text
    assert "variant: sliding-window (local) layers interleaved with global ones" in text


# ----------------------------------------------------------------------------- laziness
def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_llmphys_reads_no_preset_data():
    # the glossary's tables (llmphys/symbols/*.toml) are read at import: formulas need their
    # symbols; the presets (models, hardware, interconnects) are read on first access only
    out = run(
        "import sys, llmphys\n"
        "print([m for m in ('llmphys.presets', 'llmphys.interconnect', 'llmphys.hf_config', "
        "'llmphys.compare') if m in sys.modules])"
    )
    assert out == "[]"


def test_first_access_loads_and_builds_only_what_is_asked():
    out = run(
        "import llmphys as F\n"
        "print(repr(F.models))\n"
        "m = F.models['llama-3.1-8b']\n"
        "print(sorted(F.models._built))"
    )
    assert out.splitlines() == ["<Catalog of models (not loaded yet)>", "['llama-3.1-8b']"]


def test_module_examples_run():
    import doctest

    import llmphys.compare
    import llmphys.hf_config
    import llmphys.presets
    import llmphys.presets.accelerator
    import llmphys.presets.model

    for module in (
        llmphys.presets,
        llmphys.presets.model,
        llmphys.presets.accelerator,
        llmphys.hf_config,
        llmphys.compare,
    ):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__


# ----------------------------------------------------------------------------- a Model by hand
def test_a_model_built_by_hand():
    m = Model(
        name="toy",
        family="llama",
        values=dict(layers=2, hidden=64, n_heads=4, n_kv_heads=1, head_dim=16,
                    vocab_size=100, intermediate_size=128, embedding_matrices=1,
                    norms_per_layer=2),
        features=["explicit_heads"],
    )  # fmt: skip
    assert m.attention == "MQA"
    attention = 2 * 64 * 4 * 16 + 64 * 2 * 16
    assert m.values["params"] == 100 * 64 + 2 * (attention + 3 * 64 * 128 + 2 * 64) + 64


@pytest.mark.parametrize(
    ("values", "features", "message"),
    [
        ({"layer": 2}, [], "model 'toy': 'layer' is not an input symbol of the glossary; "
         "did you mean 'layers'?"),
        ({"params": 10}, [], "model 'toy': params are derived from the architecture "
         "(param_count, active_param_count); do not give them"),
        ({"layers": 4, "local_layers": 3, "global_layers": 2}, [], "model 'toy': local_layers + "
         "global_layers = 3 + 2 must equal layers = 4"),
        ({"layers": 4, "moe_layers": 3}, [], "model 'toy': moe_layers = 3 must equal layers = 4 "
         "when no layer is dense"),
        ({"n_experts": 4, "experts_per_token": 8}, [], "model 'toy': experts_per_token=8 "
         "exceeds n_experts=4, but a token is routed to at most every expert: the inputs "
         "contradict each other"),
        ({}, ["moe", "sliding"], "model 'toy': unknown feature 'sliding'; did you mean "
         "'sliding_window'?"),
        ({}, ["qkv_bias", "attention_sinks"], "model 'toy': features give 'attention_params' two "
         "variants ('attention_params_qkv_bias' and 'attention_params_sinks'); keep one"),
    ],
)  # fmt: skip
def test_a_model_refuses_values_that_do_not_add_up(values, features, message):
    with pytest.raises((InputError, UnknownNameError)) as info:
        Model(name="toy", family="llama", values=values, features=features)
    assert str(info.value) == message
