"""Experiment configs: dataclasses whose fields are the knobs, validated on the way in.

Each field is declared with :func:`genailab.settings.setting` (default, one-line help,
bounds). ``--set key=value`` strings from the CLI and keyword values from Python both pass
through :func:`build_config`, which names the experiment, the key and the accepted values in
every error. Supported field types: ``int``, ``float``, ``bool``, ``str`` and
``Literal[...]``.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, Literal

from genailab.errors import ConfigError
from genailab.settings import (
    SUPPORTED,
    convert_value,
    field_types,
    parse_assignments,
    setting_info,
    undeclared_fields,
)

__all__ = [
    "SUPPORTED",
    "build_config",
    "check_config_class",
    "convert_value",
    "field_types",
    "parse_assignments",
]


def check_config_class(name: str, cls: type) -> None:
    """Raise ``TypeError`` unless ``cls`` is a usable experiment config (checked at import).

    A usable config is a dataclass with a ``seed: int`` field, fields of the supported types,
    each declared with :func:`~genailab.settings.setting` (so each has its help; every number
    has both a lower and an upper bound),
    and a ``QUICK`` preset of known keys and values of the right types (its bounds are checked
    when a config is built: rules in ``__post_init__`` may use functions defined later).
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{name}: the config must be a dataclass")
    types = field_types(cls)
    if types.get("seed") is not int:
        raise TypeError(f"{name}: the config needs a field 'seed: int'")
    for key, kind in types.items():
        if kind not in SUPPORTED and typing.get_origin(kind) is not Literal:
            raise TypeError(f"{name}: field '{key}' has unsupported type {kind}")
    bare = undeclared_fields(cls)
    if bare:
        raise TypeError(
            f"{name}: declare {', '.join(bare)} with setting(default, help=..., bounds), "
            "so that every key explains itself"
        )
    for field in dataclasses.fields(cls):
        bounds = setting_info(field).bounds
        if types[field.name] in (int, float) and (bounds.low is None or bounds.high is None):
            raise TypeError(
                f"{name}: {field.name} needs both a lower and an upper bound (ge/gt and le/lt)"
            )
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

    Values are converted to the fields' types here; the bounds declared with ``setting`` and
    the dataclass's own ``__post_init__`` rules are checked when it is built. Every error is a
    :class:`ConfigError` that starts with the experiment's name.
    """
    types = field_types(cls)
    values: dict[str, Any] = {}
    layers = [cls.QUICK if quick else {}, overrides or {}, {} if seed is None else {"seed": seed}]
    for layer in layers:
        for key, value in layer.items():
            values[key] = convert_value(experiment, key, types, value)
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{experiment}: {err}") from None
