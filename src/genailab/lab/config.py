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

from genailab.errors import ConfigError, suggest

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
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


def convert_value(experiment: str, key: str, types: Mapping[str, Any], value: Any) -> Any:
    """Convert ``value`` (a CLI string or a Python value) to the type of field ``key``.

    Examples
    --------
    >>> convert_value("demo", "steps", {"steps": int}, "20")
    20
    >>> convert_value("demo", "steps", {"steps": int}, "2.5")
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: demo: steps must be an integer, got '2.5'
    """
    if key not in types:
        raise ConfigError(
            f"{experiment}: unknown config key '{key}'{suggest(key, types)} "
            f"(accepted: {', '.join(types)})"
        )
    kind = types[key]
    if typing.get_origin(kind) is Literal:
        choices = typing.get_args(kind)
        for choice in choices:
            if value == choice or (isinstance(value, str) and value == str(choice)):
                return choice
        shown = ", ".join(str(c) for c in choices)
        raise ConfigError(
            f"{experiment}: {key} must be one of {shown}; got '{value}'"
            f"{suggest(str(value), [str(c) for c in choices])}"
        )
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"{experiment}: {key} must be true or false, got '{value}'")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{experiment}: {key} must be an integer, got '{value}'") from None
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise ConfigError(f"{experiment}: {key} must be a number, got '{value}'") from None
    if not isinstance(value, str):
        raise ConfigError(f"{experiment}: {key} must be a string, got {value!r}")
    return value


def parse_assignments(items: list[str]) -> dict[str, str]:
    """Split CLI ``key=value`` strings into a dict; a malformed one raises ConfigError.

    Examples
    --------
    >>> parse_assignments(["steps=10", "mode=grid"])
    {'steps': '10', 'mode': 'grid'}
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got '{item}'")
        out[key.strip()] = value.strip()
    return out


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
