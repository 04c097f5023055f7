"""Read a Hugging Face ``config.json`` into a :class:`~llmphys.presets.Model`.

Each supported ``model_type`` (:data:`SUPPORTED`) is a declaration of the architectural
features it uses and the names of its fields (:mod:`llmphys.hf_families`), read by one path:
dense and gated or plain feed-forward blocks, GQA/MQA/MHA or MLA attention with their bias and
q/k-norm conventions, mixtures of experts under their many spellings and layer layouts (shared
experts, dense leading layers, alternating layers), sliding windows and chunked attention,
DeepSeek's sparse-attention indexer, the ``text_config`` of multimodal checkpoints.  A
``model_type`` that is not declared but has a decoder's fields is read as a Llama-style decoder,
and that assumption is listed; one with layers such a reading would count wrong (Mamba, linear
attention, an indexer) is refused naming the field.

Nothing is guessed silently:

* a size that defines the model (hidden width, layers, heads, vocabulary, FFN and expert widths,
  expert counts, MLA ranks, windows) must be in the config, or :class:`~llmphys.ConfigError`
  names the missing field;
* a field the family's ``transformers`` config class derives or defaults (``head_dim`` =
  hidden / heads for Llama, ``num_key_value_heads`` = heads, ``tie_word_embeddings``, bias
  switches, window patterns) gets that default, and the default is *reported* in
  ``model.assumptions``;
* every value is checked (positive whole numbers, heads divisible into KV groups, no more
  experts per token than experts).

>>> import llmphys as F
>>> m = F.load_hf_config({"model_type": "llama", "hidden_size": 4096,
...     "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
...     "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": False,
...     "attention_bias": False})
>>> print(f"{m.values['params']:,}")
8,030,261,248
>>> m.assumptions[0][:70]
'head_dim not given: 128 = hidden_size / num_attention_heads = 4,096 / '

"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from llmphys.errors import ConfigError, did_you_mean
from llmphys.features import OUTPUT_HEAD
from llmphys.hf_families import FAMILIES, infer_family, read_family
from llmphys.hf_reader import _context, _Reader, _released
from llmphys.presets.model import Model

__all__ = ["SUPPORTED", "load_hf_config", "model_from_config"]


#: the supported ``model_type`` values
SUPPORTED: tuple[str, ...] = tuple(sorted(FAMILIES))


def _read(path_or_dict: str | PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(path_or_dict, Mapping):
        return dict(path_or_dict)
    if not isinstance(path_or_dict, (str, PathLike)):
        raise ConfigError(
            f"load_hf_config needs a path or a dict, got {type(path_or_dict).__name__}"
        )
    path = Path(path_or_dict)
    if path.is_dir():
        path = path / "config.json"
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"no config file at {str(path)!r}") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"cannot read {str(path)!r} ({exc.strerror})") from None
    return parse_config(str(path), content)


#: The largest config.json read (real ones are a few kB).
MAX_CONFIG_BYTES = 1_000_000


def parse_config(name: str, content: bytes) -> dict[str, Any]:
    """The JSON object of a ``config.json`` (its file ``name`` and bytes, from disk or an
    upload): parsed with :func:`json.loads`, never evaluated.  Anything else raises
    :class:`~llmphys.ConfigError` saying what is wrong with the file."""
    if len(content) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{name!r} is {len(content):,} bytes: too large for a config.json "
            f"(at most {MAX_CONFIG_BYTES:,})"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name!r} is not UTF-8 text ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name!r} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{name!r} is nested too deeply to be a config.json") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name!r} holds a JSON {type(data).__name__}, not an object")
    return data


def model_from_config(
    config: Mapping[str, Any],
    *,
    name: str = "",
    display_name: str = "",
    source: str = "",
    as_of: str = "",
    hf_id: str = "",
    published: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
    context_note: str = "",
    precision_note: str = "",
) -> Model:
    """A :class:`Model` from a config dict, with the metadata a preset carries
    (``context_note``, ``precision_note``: where the preset's context limit and released
    precision are documented)."""
    family = config.get("model_type")
    if family is None:
        raise ConfigError(
            "config: missing field 'model_type' (the architecture family); supported: "
            + ", ".join(SUPPORTED)
        )
    if not isinstance(family, str):
        raise ConfigError(
            f"config: field 'model_type' must be text (the architecture family); got "
            f"{json.dumps(family)[:80]}"
        )
    declared, inferred = FAMILIES.get(family), []
    if declared is None:
        guess = infer_family(config, family)
        if guess is None:
            raise ConfigError(
                f"config: unsupported model_type {family!r}{did_you_mean(str(family), SUPPORTED)}"
                f" (supported: {', '.join(SUPPORTED)}), and its config lacks the fields of a "
                "decoder (hidden_size, num_hidden_layers, num_attention_heads, vocab_size) to "
                "read it by"
            )
        declared, inferred = guess
    reader = _Reader(config, family, list(inferred), fields=declared.fields)
    try:
        values, features = read_family(reader, declared)
        features.append(OUTPUT_HEAD)  # the vocabulary is known: logits only where needed
        context_limit, context_source, context_original = _context(reader)
        if context_note and context_limit is not None:
            context_source += f" ({context_note})"
        precisions, precision_source = _released(reader)
        if precision_note:
            precision_source += f"; {precision_note}"
    except ConfigError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        # a field of an unexpected type deep in a family's reader: still the config's fault
        raise ConfigError(
            f"{reader.where}: a field has a value of the wrong kind ({type(exc).__name__}: "
            f"{exc}); check the fields against the model's published config.json"
        ) from None
    hf_id = hf_id or str(config.get("_name_or_path") or "")
    return Model(
        name=name or hf_id,
        family=family,
        values=values,
        features=features,
        display_name=display_name or name or hf_id or family,
        source=source,
        as_of=as_of,
        hf_id=hf_id,
        assumptions=reader.assumptions,
        notes=(*reader.notes, *notes),
        published=published,
        sources=getattr(values, "sources", None),
        context_limit=context_limit,
        context_source=context_source,
        context_original=context_original,
        precisions=precisions,
        precision_source=precision_source,
    )


def load_hf_config(path_or_dict: str | PathLike[str] | Mapping[str, Any], name: str = "") -> Model:
    """A :class:`~llmphys.presets.Model` from a Hugging Face ``config.json`` (a path to it, to
    its folder, or the parsed dict).

    Dispatches on ``model_type`` (:data:`SUPPORTED`); an unknown type, a missing size or a bad
    value raises :class:`~llmphys.ConfigError` naming it.  Defaults that are applied are listed
    in ``model.assumptions``.  The model's ``params`` and ``active_params`` are derived from the
    architecture (see :mod:`llmphys.param_counts` for the conventions).

    Parameters
    ----------
    path_or_dict
        The ``config.json`` file, the folder holding it, or its parsed content.
    name
        The model's name (default: the config's ``_name_or_path``, else its family).

    Returns
    -------
    llmphys.presets.Model
        The architecture, ready for a :class:`~llmphys.Scenario` or a formula.

    Raises
    ------
    ConfigError
        An unsupported ``model_type``, a missing size or a bad value (named), or a file that
        cannot be read.
    """
    return model_from_config(_read(path_or_dict), name=name)
