"""The command line's deployment options: ``--model/--hardware/--assume/--tp/...`` build one
:class:`~llmphys.Scenario` (with the same defaults as the app and the Python API), and
``--set NAME=VALUE`` texts are read for the symbol they name.

Nothing here fills a formula's inputs: the Scenario does.  Without any deployment option the
commands work on the bare formula (inputs left out stay symbols).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "SCENARIO_OPTIONS",
    "UsageError",
    "add_scenario_options",
    "deployment",
    "known_names",
    "pairs",
    "read",
    "scenario",
]


class UsageError(Exception):
    """A command line that parses but cannot be used (``--set`` without ``=``)."""


#: option -> (Scenario keyword, help); every one of them makes the command a deployment's
SCENARIO_OPTIONS: Mapping[str, tuple[str, str]] = {
    "--model": ("model", "model preset, Hugging Face id or config.json path (default: %s)"),
    "--hardware": ("hardware", "accelerator preset (default: %s)"),
    "--assume": ("assumptions", "assumption set: ideal, seed or typical (default: %s)"),
    "--weights": (
        "weights",
        "weight precision of every weight (default: as the model was released)",
    ),
    "--kv": ("kv", "KV-cache precision (default: %s)"),
    "--compute": ("compute", "compute precision: picks the dense peak (default: %s)"),
    "--tp": ("tp", "tensor-parallel degree (default: %s)"),
    "--pp": ("pp", "pipeline-parallel degree (default: %s)"),
    "--ep": ("ep", "expert-parallel degree (default: %s)"),
    "--batch": ("batch", "sequences decoded together (default: %s)"),
    "--prompt-len": ("prompt_len", "prompt tokens; 4k = 4,096 (default: %s)"),
    "--output-len": ("output_len", "output tokens (default: %s)"),
    "--interconnect": ("interconnect", "GPU-to-GPU link (default: the accelerator's usual)"),
    "--speculative": (
        "speculative",
        "speculative decoding: draft (a draft model) or mtp (the model's MTP modules); "
        "default: none",
    ),
}


def add_scenario_options(p: argparse.ArgumentParser) -> None:
    from llmphys.scenario import DEFAULTS

    group = p.add_argument_group(
        "deployment", "any of these makes it a deployment's figure (llmphys.Scenario)"
    )
    for option, (key, text) in SCENARIO_OPTIONS.items():
        shown = text % DEFAULTS[key] if "%s" in text else text
        group.add_argument(option, dest=key, metavar=key.upper().split("_")[0], help=shown)
    group.add_argument(
        "--precision", dest="compute_alias", metavar="P", help="the same as --compute"
    )
    p.add_argument(
        "--set",
        metavar="NAME=VALUE",
        action="append",
        help="an input value (repeatable): prompt_len=32k, utilization=0.6, "
        "gpu_memory='80 GiB', bytes_per_param=int4; wins over the deployment's",
    )


def pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    """``["seq_len=32k", ...]`` as a dict; a later pair overrides an earlier one."""
    found: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} expects NAME=VALUE, got {item!r}")
        found[name.strip()] = value.strip()
    return found


def known_names() -> list[str]:
    """Every name a ``--set`` may give a deployment: glossary inputs and formulas by value."""
    from llmphys.engine import glossary, registry

    return [e.name for e in glossary.inputs()] + list(registry)


def _entry(name: str) -> Any:
    """The glossary entry a ``--set NAME`` is read for (an input, or a formula's result)."""
    from llmphys.engine import glossary

    return glossary[name]


def read(texts: Mapping[str, str], known: Sequence[str], where: str) -> tuple[dict, list[str]]:
    """``--set`` texts parsed for their symbols (each must be in ``known``), and a line for
    each value not typed as a plain number saying how it was read (``32k`` -> 32,768 tok)."""
    from llmphys.engine.parse import parse_value
    from llmphys.errors import UnknownNameError, closest, did_you_mean
    from llmphys.units import Q_

    values: dict[str, Any] = {}
    echo: list[str] = []
    for name, text in texts.items():
        if name not in known:
            raise UnknownNameError(
                f"{where}: unknown input {name!r}{did_you_mean(name, known)}", name,
                closest(name, known),
            )  # fmt: skip
        entry = _entry(name)
        value = parse_value(text, entry, f"--set {name}")
        values[name] = value
        if isinstance(value, float) and not _plain(text):  # a suffix: say how it was read
            unit = f" {Q_(1, entry.pint_unit).units:~P}".rstrip()
            echo.append(f"read {name}={text} as {value:,.10g}{unit}")
    return values, echo


def _plain(text: str) -> bool:
    try:
        float(text.replace("_", ""))
    except ValueError:
        return False
    return True


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The deployment options given on the command line, as Scenario keywords."""
    found = {
        key: getattr(args, key)
        for key, _ in SCENARIO_OPTIONS.values()
        if getattr(args, key, None) is not None
    }
    alias = getattr(args, "compute_alias", None)
    if alias is not None:
        if "compute" in found and found["compute"] != alias:
            raise UsageError("--precision is --compute; give one of them")
        found["compute"] = alias
    return found


def scenario(args: argparse.Namespace, texts: dict[str, str]) -> tuple[Any, list[str]]:
    """The :class:`~llmphys.Scenario` of the deployment options and the ``--set`` values
    (or ``None`` without any deployment option), and how values were read."""
    import llmphys
    from llmphys.engine import glossary, registry
    from llmphys.engine.parse import parse_value
    from llmphys.scenario_inputs import argument_name, glossary_name

    options = given(args)
    if not options:
        return None, []
    kwargs: dict[str, Any] = {}
    echo: list[str] = []
    for key in ("tp", "pp", "ep", "batch", "prompt_len", "output_len"):
        if key in options:
            symbol = glossary_name(key)
            value = parse_value(options[key], glossary[symbol], f"--{key.replace('_', '-')}")
            kwargs[key] = value
            if isinstance(value, float) and not _plain(str(options[key])):
                echo.append(f"read --{key.replace('_', '-')} {options[key]} as {value:,.10g}")
    for key in ("model", "hardware", "assumptions", "weights", "kv", "compute", "interconnect",
                "speculative"):  # fmt: skip
        if key in options:
            kwargs[key] = options[key]
    known = [e.name for e in glossary.inputs()] + list(registry)
    sets, more = read(texts, known, "--set")
    for key in ("batch", "prompt_len", "tp", "pp", "ep", "new_tokens"):
        option = argument_name(key)
        if key in sets and option in kwargs:
            raise UsageError(f"--set {key} repeats --{option.replace('_', '-')}; give one")
    return llmphys.Scenario.from_values(**kwargs, **sets), echo + more


def deployment(args: argparse.Namespace) -> tuple[Any, list[str]]:
    """The :class:`~llmphys.Scenario` a command asks about: its deployment options and
    ``--set`` values, or the defaults with the ``--set`` values when no option is given (as
    :meth:`~llmphys.Scenario.from_values`), and how the values were read."""
    import llmphys

    texts = pairs(args.set, "--set")
    s, echo = scenario(args, texts)
    if s is None:
        values, echo = read(texts, known_names(), "--set")
        s = llmphys.Scenario.from_values(**values)
    return s, echo


def check_used(s: Any, name: str, texts: Mapping[str, str]) -> None:
    """Refuse a ``--set`` the figure does not use (it would change nothing)."""
    from llmphys.scenario_pool import DERIVED_SOURCES, rules_for

    used = set(s.values_for(name))

    def feeds(n: str) -> bool:  # sets an input the figure uses (experts_per_token: N_a)
        return n in DERIVED_SOURCES or any(out in used for out in rules_for(s.model, [n]))

    unused = [n for n in texts if n not in used and not feeds(n)]
    if unused:
        raise UsageError(
            f"--set {unused[0]}: {name} does not use {unused[0]} in this deployment "
            f"(its inputs: {', '.join(s.values_for(name))})"
        )
