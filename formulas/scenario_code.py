"""A :class:`~llmphys.Scenario` as the code that rebuilds it: a Python call and an
``llmphys scenario`` command line, each giving the same figures (the sizing app's "copy as
Python" and "copy as CLI").

>>> import llmphys as F
>>> s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=4, batch=32)
>>> print(python_code(s))
import llmphys as F
<BLANKLINE>
s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", kv="bf16", compute="bf16",
               act="bf16", tp=4, pp=1, ep=1, batch=32, prompt_len=4096, output_len=1024,
               assumptions="typical")
print(s.summary())
>>> print(cli_command(s))
llmphys scenario --model llama-3.1-70b --hardware h100-sxm --weights fp8 --kv bf16 \\
  --compute bf16 --tp 4 --pp 1 --ep 1 --batch 32 --prompt-len 4096 --output-len 1024 \\
  --assume typical --set act_bytes=bf16
"""

from __future__ import annotations

import shlex
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.scenario import Scenario

__all__ = ["cli_command", "python_code"]

# the Scenario's own arguments, in call order (the model and the accelerator come first)
_ARGS = ("weights", "kv", "compute", "act", "tp", "pp", "ep", "batch", "prompt_len",
         "output_len", "interconnect", "speculative")  # fmt: skip
_OPTIONS = {"weights": "--weights", "kv": "--kv", "compute": "--compute", "tp": "--tp",
            "pp": "--pp", "ep": "--ep", "batch": "--batch", "prompt_len": "--prompt-len",
            "output_len": "--output-len", "interconnect": "--interconnect",
            "speculative": "--speculative"}  # fmt: skip


# precisions the CLI options take by name only: a number goes to --set as its symbol
_NUMERIC = {"weights": "bytes_per_param", "kv": "kv_bytes"}


def _key(found: Any, catalog: Any) -> str | None:
    """The preset name of ``found`` in ``catalog`` (None: not a preset)."""
    for name in catalog:
        if catalog[name] is found:
            return str(name)
    return None


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _parts(s: Scenario) -> tuple[str | None, str | None, dict[str, Any], str, dict[str, Any]]:
    """The scenario as arguments: model and accelerator names (None: not presets), its
    named arguments, the assumption set's name and every value given beside them."""
    import llmphys

    model = _key(s.model, llmphys.models)
    hardware = _key(s.hardware, llmphys.hardware)
    arguments = s.arguments()
    args: dict[str, Any] = {}
    for name in _ARGS:
        value = arguments.get(name)
        if value is None:
            continue
        if name == "interconnect":
            value = value if isinstance(value, str) else _key(value, llmphys.interconnects)
        args[name] = _number(value)
    base, _, _ = s.assumptions.name.partition("+")
    given = {k: v for k, v in s.assumptions.values.items() if s.assumptions.sources[k] == "user"}
    given |= {k: _number(v) for k, v in arguments.items() if k not in (*_ARGS, "assumptions")}
    return model, hardware, args, base, given


def python_code(s: Scenario) -> str:
    """The Python that rebuilds ``s`` (``import llmphys as F``, the call, its summary)."""
    model, hardware, args, base, given = _parts(s)
    first = [repr(model) if model else 'F.load_hf_config("config.json")',
             repr(hardware) if hardware else "accelerator"]  # fmt: skip
    words = [*first, *(f"{k}={v!r}" for k, v in args.items()), f"assumptions={base!r}"]
    words += [f"{k}={v!r}" for k, v in given.items()]
    call = "s = F.Scenario(" + ", ".join(words) + ")"
    lines = textwrap.wrap(call, 95, subsequent_indent=" " * 15, break_long_words=False,
                          break_on_hyphens=False)  # fmt: skip
    code = ["import llmphys as F", "", *lines, "print(s.summary())"]
    if model is None:
        code.insert(1, "# the uploaded model: load_hf_config reads its config.json")
    return "\n".join(code).replace("'", '"')


def cli_command(s: Scenario) -> str:
    """The ``llmphys scenario`` command line that rebuilds ``s``."""
    model, hardware, args, base, given = _parts(s)
    words = ["llmphys", "scenario", "--model", model or "config.json"]
    if hardware is None:
        raise ValueError(f"{s.hardware.display_name} is not an accelerator preset: no CLI name")
    words += ["--hardware", hardware]
    values: dict[str, Any] = {}
    for name, value in args.items():
        if name in _NUMERIC and isinstance(value, (int, float)):  # a number, not a name
            values[_NUMERIC[name]] = value
        elif name in _OPTIONS and not isinstance(value, dict):
            words += [_OPTIONS[name], str(value)]
    if "act" in args:
        values["act_bytes"] = args["act"]
    values |= given
    if isinstance(args.get("weights"), dict):  # weights by class: the CLI takes each's symbol
        from llmphys.precisions import WEIGHT_CLASSES

        values |= {WEIGHT_CLASSES[k]: v for k, v in args["weights"].items()}
    words += ["--assume", base]
    for name, value in values.items():
        words += ["--set", f"{name}={value}"]
    # an option and its value stay on one line: joined by a mark that wrapping keeps
    pairs = [shlex.quote(w) for w in words[:2]]
    options = zip(words[2::2], words[3::2], strict=True)
    pairs += [f"{shlex.quote(a)}\0{shlex.quote(b)}" for a, b in options]
    lines = textwrap.wrap(" ".join(pairs), 88, break_long_words=False, break_on_hyphens=False)
    return " \\\n  ".join(lines).replace("\0", " ")
