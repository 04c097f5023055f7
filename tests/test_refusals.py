"""Bad input found by an audit of the Python API and the CLI: each is refused with a reason,
never answered with a number (the project's rule), or answered with what was really used."""

from __future__ import annotations

import pytest

import llmphys as F
from llmphys.cli import main
from llmphys.errors import InfeasibleError, InputError


def test_a_total_size_is_not_a_precision():
    # B/element and B/param are per-count units: pint converts 2 GB to 2e9 B/element, which
    # read as a KV precision gave a 1.07e19-byte cache.  FP64 (8 B) is the widest element.
    with pytest.raises(InputError, match=r"'kv_bytes' is a precision .* at most 8 B \(FP64"):
        F.kv_cache_bytes(kv_bytes=F.Q_(2, "GB"), layers=32, n_kv_heads=8, head_dim=128,
                         seq_len=1000, batch=1)  # fmt: skip
    with pytest.raises(InputError, match="got 2000000000 B/param: a total size"):
        F.Scenario(bytes_per_param=F.Q_(2, "GB"))
    assert F.Scenario("llama-3.1-8b", bytes_per_param=8).weight_bytes.to("GB").magnitude > 64


def test_active_parameters_are_some_of_the_parameters():
    with pytest.raises(InputError, match=r"active_params=6\.9503e\+10 exceeds params=1, but the"):
        F.Scenario("llama-3.1-70b", params=1)


def test_the_summary_title_says_the_precisions_in_use():
    title = F.Scenario("mixtral-8x7b", bytes_per_param="int4", kv_bytes="fp8").summary().title
    assert "weights int4, KV fp8," in title and "as released" not in title
    mixed = F.Scenario("mixtral-8x7b", expert_bytes=0.5).summary().title
    assert "weights body bf16, experts 0.5 B/param, embeddings bf16, KV bf16" in mixed
    assert "weights bf16 (as released), KV bf16" in F.Scenario("mixtral-8x7b").summary().title


def test_a_context_beyond_the_models_limit_is_flagged():
    # Llama 3.1's max_position_embeddings is 131,072 (config.json)
    s = F.Scenario("llama-3.1-70b", "h100-sxm", tp=8, prompt_len=200_000)
    row = next(r for r in s.summary().rows if r.key == "memory_per_gpu")
    assert "201,024 tokens of context is beyond the model's limit of 131,072" in row.note


def test_python_errors_become_reasons():
    with pytest.raises(InputError, match=r"batch takes one value .* s\.sweep\(figure, batch="):
        F.Scenario(batch=[1, 2])
    with pytest.raises(InputError, match="compare with another Scenario; got int"):
        F.Scenario().compare(5)
    with pytest.raises(InputError, match="argument 'output_len' must be zero or positive"):
        F.Scenario(output_len=-3)
    with pytest.raises(InputError, match=r"argument 'tp' got the text '2'; give a number$"):
        F.Scenario(tp="2")
    # output_len is the constructor's name for new_tokens: solve takes it too
    s = F.Scenario("llama-3.1-8b", "h100-sxm")
    n = s.solve("output_len", "60 s", of="e2e_latency").value.magnitude
    assert s.replace(output_len=n).e2e_latency <= F.Q_(60, "s") < s.replace(
        output_len=n + 1
    ).e2e_latency


def test_a_checkpoint_folder_is_read_as_its_config(tmp_path):
    with pytest.raises(F.ConfigError, match="no config file at"):
        F.Scenario(str(tmp_path))


def test_cli_refuses_what_would_hang_or_mislead(capsys):
    assert main(["search", "--workers", "-1"]) == 2  # a LocalCluster of -1 never starts
    assert "--workers -1: give a number of processes of at least 1" in capsys.readouterr().err
    assert main(["frontier", "--tp", "4", "--floor", "-5"]) != 0
    assert "floor of tokens/s per user must be a positive number" in capsys.readouterr().err
    # DeepSeek-V3 on one H100: no batch fits; say so instead of an empty table
    assert main(["frontier", "--model", "deepseek-v3"]) == 1
    assert "no point fits in memory" in capsys.readouterr().err
    with pytest.raises(InfeasibleError, match="no point fits in memory"):
        F.frontier(F.Scenario("deepseek-v3", "h100-sxm")).best_at(5)


def test_cli_refuses_a_total_size_for_a_precision(capsys):
    assert main(["scenario", "--set", "bytes_per_param=2 GB"]) == 2
    assert "'bytes_per_param' is a precision" in capsys.readouterr().err


def test_a_search_takes_only_layouts_a_scenario_takes():
    from llmphys.sizing.layouts import layouts_allowed

    # Mixtral's 8 experts over 3 GPUs: not whole experts per GPU, refused by the Scenario
    with pytest.raises(InputError, match="n_EP = 3 does not divide the 8 routed experts"):
        F.Scenario("mixtral-8x7b", "h100-sxm", ep=3)
    mixtral = F.models["mixtral-8x7b"]
    assert layouts_allowed(mixtral, tp=1, ep=[1, 2, 3, 4, 8]).tolist() == [
        True, True, False, True, True
    ]  # fmt: skip


def test_search_reads_token_counts_as_the_other_commands(capsys):
    # "32k" is 32,768 tokens everywhere on the command line (issue 15); search refused it
    assert main(["search", "--prompt-len", "32k", "--batch", "1", "--tp", "4", "--json"]) == 0
    import json

    found = json.loads(capsys.readouterr().out)
    assert {p["prompt_len"] for p in found["pareto"]} == {32768}
    assert main(["search", "--prompt-len", "abc"]) == 2
    assert "'abc' is not a number or a quantity" in capsys.readouterr().err


def test_the_cli_says_why_it_takes_no_value(capsys):
    assert main(["frontier", "--over", "tp=3"]) != 0  # not memory: 64 heads over 3 GPUs
    err = capsys.readouterr().err
    assert "takes none of the layouts over tp: n_TP = 3 does not split the 64 query heads" in err
    assert main(["frontier", "--over", "tp=0"]) != 0
    assert "argument 'tp' must be positive; got 0" in capsys.readouterr().err


def test_formula_text_that_is_not_finite_is_refused(capsys):
    assert main(["check", "1/0"]) != 0  # SymPy simplifies it to zoo, complex infinity
    assert "'1/0' is not a finite formula: it divides by zero" in capsys.readouterr().err
    with pytest.raises(F.FormulaDefinitionError, match="is not a finite formula"):
        F.check_units("kv_bytes / 0")
