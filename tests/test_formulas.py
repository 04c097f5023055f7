"""Over every registered formula: units homogeneous, a finite positive value at the glossary
defaults, worked examples in the docstring that run, a generated page that lists the inputs."""

from __future__ import annotations

import doctest
import math
import sys

import pytest

import llmphys as F
from llmphys.units import expression_unit, same_unit

from support import defaults_for

ALL = sorted(F.registry)


@pytest.mark.parametrize("name", ALL)
def test_units_homogeneous_when_fully_expanded(name):
    f = F.registry[name]
    unit = expression_unit(f.expanded, lambda s: F.glossary[s.name].pint_unit, name)
    assert same_unit(unit, f.unit) == (True, 1.0)


#: formulas that are zero at the glossary defaults by their physics (batch 1)
ZERO_AT_DEFAULTS = {
    "extra_expert_read": "one token reaches no experts beyond its own k",
    "extra_experts_touched": "one token reaches no experts beyond its own k",
    "extra_expert_read_mixed": "one token reaches no experts beyond its own k",
}


@pytest.mark.parametrize("name", ALL)
def test_value_at_glossary_defaults_is_finite_and_positive(name):
    f = F.registry[name]
    q = f(**defaults_for(f))
    assert q.units == f.unit
    if name in ZERO_AT_DEFAULTS:
        assert q.magnitude == 0
        assert f(**{**defaults_for(f), "batch": 2}).magnitude > 0
        return
    assert math.isfinite(q.magnitude) and q.magnitude > 0


@pytest.mark.parametrize("name", ALL)
def test_docstring_examples_run(name):
    f = F.registry[name]
    assert ">>>" in f.raw_doc, f"{name} has no worked example"
    globs = dict(vars(sys.modules[f.module]))
    test = doctest.DocTestParser().get_doctest(f.raw_doc, globs, name, f.module, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=lambda s: None)
    assert runner.failures == 0, f"{name}: {runner.failures} example(s) failed"


@pytest.mark.parametrize("name", ALL)
def test_generated_page_lists_inputs_source_and_rationale(name):
    f = F.registry[name]
    page = f.__doc__
    for sym in f.inputs:
        assert f"\n{sym.name} : " in page
    assert "Equation\n--------" in page
    assert f.source and f.source in page


@pytest.mark.parametrize("name", ALL)
def test_every_symbol_has_a_display_name_from_the_glossary(name):
    f = F.registry[name]
    text = f.to_text(f.expanded)
    for sym in f.inputs:
        entry = F.glossary[sym.name]
        if entry.text != sym.name:  # never the python name where a display name exists
            assert sym.name not in text.split(" "), (name, sym.name, text)


def test_module_doctests():
    for module in ["llmphys", "llmphys.units"]:
        result = doctest.testmod(sys.modules[module], optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0
