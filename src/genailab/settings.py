"""Typed settings from the command line: ``key=value`` strings to ints, floats, bools, choices.

The experiments' configs (:mod:`genailab.lab.config`) and the language models' training
configs (:mod:`genailab.lm.train`) both take ``--set key=value`` overrides; this module,
below both, holds the one set of conversion rules and messages they share. Every error
names where it happened, the key and what is accepted.
"""

from __future__ import annotations

import argparse
import math
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal

from genailab.errors import ConfigError, suggest

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def convert_value(where: str, key: str, types: Mapping[str, Any], value: Any) -> Any:
    """Convert ``value`` (a CLI string or a Python value) to the type ``types[key]``.

    ``where`` starts every message (an experiment's name, ``lm train``). Types: ``int``,
    ``float``, ``bool`` (``1/0``, ``true/false``, ``yes/no``, ``on/off``), ``str`` and
    ``Literal[...]``.

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
            f"{where}: unknown config key '{key}'{suggest(key, types)} "
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
            f"{where}: {key} must be one of {shown}; got '{value}'"
            f"{suggest(str(value), [str(c) for c in choices])}"
        )
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"{where}: {key} must be true or false, got '{value}'")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{where}: {key} must be an integer, got '{value}'") from None
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise ConfigError(f"{where}: {key} must be a number, got '{value}'") from None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
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


def bounded_number(kind: type, low: float, strict: bool = False) -> Callable[[str], Any]:
    """An argparse ``type=`` that reads an int or a finite float at least (above) ``low``.

    Examples
    --------
    >>> rows = bounded_number(int, 1)
    >>> rows("20")
    20
    >>> rows("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 1, got '0'
    >>> bounded_number(float, 0, strict=True)("inf")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a finite number > 0, got 'inf'
    """
    what = "an integer" if kind is int else "a finite number"
    bound = f"{'>' if strict else '>='} {low:g}"

    def read(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        ok = value is not None and math.isfinite(value)
        ok = ok and (value > low if strict else value >= low)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {what} {bound}, got '{text}'")
        return value

    read.__name__ = f"{kind.__name__} {bound}"  # argparse names the type in some messages
    return read
