"""The still of an Explore panel (issue 22, item 7): what a page without a kernel shows in
place of a widget that would do nothing -- the formula, each input at its value, the answer,
and how to run it, with math in the markup the docs' MathJax typesets."""

from __future__ import annotations

import llmphys as F
from llmphys.widget_snapshot import RUN_IT
from llmphys.widgets import explore


def test_the_panel_offers_a_still_beside_the_live_view():
    panel = explore("kv_cache_bytes")
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # Lab and Voila: live
    still = bundle["text/html"]
    for name in panel.controls:
        assert f"<td>{name}</td>" in still
    assert "$" not in still  # math only as Sphinx math spans, never raw TeX delimiters
    assert still.count('<span class="math notranslate nohighlight">') == len(panel.controls) + 2
    assert "3.28\\,\\mathrm{GB}" in still and RUN_IT in still


def test_the_still_follows_the_panel_and_its_solve():
    h100 = F.hardware["h100-sxm"]
    panel = explore(F.memory_per_gpu, solve_for="seq_len", target=h100.capacity,
                    workspace_fraction=0.12)  # fmt: skip
    panel.controls["n_gpus"].value = 2
    still = panel._repr_mimebundle_()["text/html"]
    assert "solving for <code>seq_len</code>" in still and "S = 43461" in still


def test_a_formula_of_your_own_has_a_still():
    paged = F.define("paged_bytes", "ceil(seq_len / block_size) * block_size * kv_bytes",
                     units={"block_size": "token"}, result="byte")  # fmt: skip
    still = explore(paged, kv_bytes="bf16")._repr_mimebundle_()["text/html"]
    assert "<td>block_size</td>" in still
