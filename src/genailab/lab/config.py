"""Experiment configs: dataclasses whose fields are the knobs, validated on the way in.

``--set key=value`` strings from the CLI and keyword values from Python both pass through
:func:`build_config`, which names the experiment, the key and the accepted values in every
error. Supported field types: ``int``, ``float``, ``bool``, ``str`` and ``Literal[...]``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, Literal

from genailab.errors import ConfigError
from genailab.settings import convert_value, parse_assignments

__all__ = [
    "SUPPORTED",
    "build_config",
    "check_config_class",
    "convert_value",
    "field_types",
    "parse_assignments",
]

SUPPORTED = (int, float, bool, str)


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type of each field of the dataclass ``cls`` (string annotations included)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def check_config_class(name: str, cls: type) -> None:
    """Raise ``TypeError`` unless ``cls`` is a usable experiment config (checked at import)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{name}: the config must be a dataclass")
    types = field_types(cls)
    if types.get("seed") is not int:
        raise TypeError(f"{name}: the config needs a field 'seed: int'")
    for key, kind in types.items():
        if kind not in SUPPORTED and typing.get_origin(kind) is not Literal:
            raise TypeError(f"{name}: field '{key}' has unsupported type {kind}")
    quick = getattr(cls, "QUICK", None)
    if not isinstance(quick, dict):
        raise TypeError(f"{name}: the config needs a QUICK preset (a dict of field values)")
    for key, value in quick.items():
        convert_value(name, key, types, value)  # a wrong preset fails at import, not at run


def build_config(
    experiment: str,
    cls: type,
    *,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Any:
    """Make a config: the defaults, then the QUICK preset, then ``overrides``, then ``seed``.

    The dataclass's own ``__post_init__`` checks ranges; its ValueError is re-raised as a
    :class:`ConfigError` that names the experiment.
    """
    types = field_types(cls)
    values: dict[str, Any] = {}
    layers = [cls.QUICK if quick else {}, overrides or {}, {} if seed is None else {"seed": seed}]
    for layer in layers:
        for key, value in layer.items():
            values[key] = convert_value(experiment, key, types, value)
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{experiment}: {err}") from None
