"""Typed settings: declared once with their bounds and help, converted and checked on the way in.

Every knob of genailab (an experiment's config, the language models' training config) is a
dataclass field declared with :func:`setting`: its default, a one-line help and its bounds
sit side by side::

    @dataclass
    class Config:
        points: int = setting(100, help="starting points walking downhill", ge=1, le=100_000)
        mode: Literal["grid", "neighbor"] = setting("grid", help="how a point takes a step")

That one declaration serves three readers: :func:`check_settings` (applied by :func:`checked`
whenever the dataclass is built) refuses a value of the wrong type, out of bounds or not
finite; :func:`describe_settings` returns the description as plain data, which ``--help`` prints
and a web form can be built from; and :func:`convert_value` turns ``--set key=value`` strings
into the field's type. Every message names where it happened, the key, the value and what is
accepted, in one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from genailab.errors import ConfigError, suggest

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_META = "genailab.setting"
SUPPORTED = (int, float, bool, str)


# ----------------------------------------------------------------------------- declaring
@dataclasses.dataclass(frozen=True)
class Bounds:
    """An interval of numbers: ``ge``/``gt`` below, ``le``/``lt`` above, each optional.

    Examples
    --------
    >>> Bounds(ge=1, le=100).text(), Bounds(gt=0).text(), Bounds(ge=0, lt=1).text()
    ('[1, 100]', '> 0', '[0, 1)')
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def __post_init__(self) -> None:
        if self.ge is not None and self.gt is not None:
            raise TypeError("give ge or gt, not both")
        if self.le is not None and self.lt is not None:
            raise TypeError("give le or lt, not both")
        low, high = self.low, self.high
        if low is not None and high is not None and low > high:
            raise TypeError(f"empty interval {self.text()}")

    @property
    def low(self) -> float | None:
        return self.ge if self.ge is not None else self.gt

    @property
    def high(self) -> float | None:
        return self.le if self.le is not None else self.lt

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        return not (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def text(self) -> str:
        """``[1, 100000]``, ``(0, 1]``, ``>= 1``, ``< 5``, or ``""`` for no bound at all."""
        low, high = self.low, self.high
        if low is not None and high is not None:
            left = "[" if self.ge is not None else "("
            right = "]" if self.le is not None else ")"
            return f"{left}{_number(low)}, {_number(high)}{right}"
        if low is not None:
            return f"{'>=' if self.ge is not None else '>'} {_number(low)}"
        if high is not None:
            return f"{'<=' if self.le is not None else '<'} {_number(high)}"
        return ""


def _number(value: float) -> str:
    """A bound as a person writes it: 100000, 0.5, 1e-06."""
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return str(int(value))
    return f"{value:g}"


@dataclasses.dataclass(frozen=True)
class SettingInfo:
    """What :func:`setting` records in a field's metadata: the help line and the bounds."""

    help: str
    bounds: Bounds


def setting(
    default: Any,
    *,
    help: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A dataclass field with a one-line ``help`` and bounds (``ge`` >=, ``gt`` >, ``le`` <=,
    ``lt`` <), enforced by :func:`checked` and shown by :func:`describe_settings`.

    Examples
    --------
    >>> @checked
    ... @dataclasses.dataclass
    ... class Walk:
    ...     steps: int = setting(10, help="steps to take", ge=1, le=1000)
    >>> Walk(steps=20).steps
    20
    >>> Walk(steps=0)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: Walk: steps must be in [1, 1000], got 0
    """
    if not isinstance(help, str) or not help.strip() or "\n" in help:
        raise TypeError(f"setting({default!r}): help must be one non-empty line")
    info = SettingInfo(help=help.strip(), bounds=Bounds(ge=ge, gt=gt, le=le, lt=lt))
    return dataclasses.field(default=default, metadata={_META: info})


SEED_MAX = 2**32 - 1  # what numpy's and torch's seeding both take


def seed_setting(default: int = 0) -> Any:
    """The ``seed`` field every experiment has: the same seed gives the same run."""
    return setting(default, help="random seed: the same seed gives the same run", ge=0, le=SEED_MAX)


def setting_info(field: dataclasses.Field) -> SettingInfo | None:
    """The :class:`SettingInfo` of a field declared with :func:`setting`, else None."""
    return field.metadata.get(_META)


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type of each field of the dataclass ``cls`` (string annotations included)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


# ------------------------------------------------------------------------------ checking
def check_settings(obj: Any, where: str) -> None:
    """Check every field of the dataclass instance ``obj``: its type, that a float is finite,
    and the bounds its :func:`setting` declared; raise :class:`ConfigError` naming ``where``."""
    types = field_types(type(obj))
    for field in dataclasses.fields(obj):
        key, value, kind = field.name, getattr(obj, field.name), types[field.name]
        problem = _type_problem(kind, value)
        if problem:
            raise ConfigError(f"{where}: {key} must be {problem}, got {value!r}")
        info = setting_info(field)
        if info and kind in (int, float) and not info.bounds.contains(value):
            raise ConfigError(f"{where}: {key} must be in {_interval(info.bounds)}, got {value!r}")


def _type_problem(kind: Any, value: Any) -> str:
    """What ``value`` should have been for a field of type ``kind``, or ``""`` if it is fine."""
    if typing.get_origin(kind) is Literal:
        choices = typing.get_args(kind)
        return "" if value in choices else "one of " + ", ".join(map(str, choices))
    if kind is bool:
        return "" if isinstance(value, bool) else "true or false"
    if kind is int:
        return "" if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if kind is float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return "" if number and math.isfinite(value) else "a finite number"
    if kind is str:
        return "" if isinstance(value, str) else "a string"
    return ""


def _interval(bounds: Bounds) -> str:
    """The bounds as an interval for messages: ``[1, 100]``, or ``[1, inf)`` for one side."""
    text = bounds.text()
    if "," in text:
        return text
    low, high = bounds.low, bounds.high
    if low is not None:
        return f"{'[' if bounds.ge is not None else '('}{_number(low)}, inf)"
    return f"(-inf, {_number(high)}{']' if bounds.le is not None else ')'}"


def checked(cls: type | None = None, *, where: str | None = None) -> Any:
    """Class decorator (above ``@dataclass``): check every field each time one is built.

    The bounds and types are checked first, then the class's own ``__post_init__`` runs (for
    rules that tie fields together, such as ``k <= points``); a ``ValueError`` from it becomes a
    :class:`ConfigError` that starts with ``where`` (default: the class name; the experiment
    decorator passes the experiment's name).
    """

    def wrap(cls: type) -> type:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__}: @checked goes above @dataclass")
        cls.__genailab_where__ = where or getattr(cls, "__genailab_where__", cls.__name__)
        if cls.__dict__.get("__genailab_checked__"):
            return cls
        cls.__genailab_checked__ = True
        rules = getattr(cls, "__post_init__", None)  # the class's own cross-field rules

        def check(self: Any) -> None:
            place = type(self).__genailab_where__
            check_settings(self, place)
            if rules is None:
                return
            try:
                rules(self)
            except ConfigError:
                raise
            except ValueError as err:
                raise ConfigError(f"{place}: {err}") from None

        if rules is not None:  # dataclass's generated __init__ calls __post_init__
            cls.__post_init__ = functools.wraps(rules)(check)
        else:
            original_init = cls.__init__

            @functools.wraps(original_init)
            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                original_init(self, *args, **kwargs)
                check(self)

            cls.__init__ = init
        return cls

    return wrap if cls is None else wrap(cls)


def undeclared_fields(cls: type) -> list[str]:
    """The fields of ``cls`` not declared with :func:`setting` (so with no help or bounds)."""
    return [f.name for f in dataclasses.fields(cls) if setting_info(f) is None]


# ---------------------------------------------------------------------------- describing
def type_name(kind: Any) -> str:
    """``int``, ``float``, ``bool``, ``str``, or the choices joined by ``|``."""
    if typing.get_origin(kind) is Literal:
        return "|".join(str(c) for c in typing.get_args(kind))
    return getattr(kind, "__name__", str(kind))


def describe_settings(cls: type, presets: Mapping[str, Mapping[str, Any]] | None = None) -> list:
    """Every field of the dataclass ``cls`` as plain data, in declaration order.

    Each entry is a dict with ``key``, ``type`` (``int``, ``float``, ``bool``, ``str`` or
    ``choice``), ``choices`` (a list, or None), ``default``, ``bounds`` (``{"ge": 1, "le": 100}``
    with only the sides that exist), ``interval`` (the same as text, ``[1, 100]``), ``help``, and
    for each named preset its value of the field (or the default where it sets none).

    Examples
    --------
    >>> @dataclasses.dataclass
    ... class Walk:
    ...     steps: int = setting(10, help="steps to take", ge=1, le=1000)
    ...     mode: Literal["grid", "free"] = setting("grid", help="how to step")
    >>> describe_settings(Walk, {"quick": {"steps": 3}})[0]  # doctest: +NORMALIZE_WHITESPACE
    {'key': 'steps', 'type': 'int', 'choices': None, 'default': 10, 'bounds': {'ge': 1, 'le': 1000},
     'interval': '[1, 1000]', 'help': 'steps to take', 'quick': 3}
    """
    types = field_types(cls)
    out = []
    for field in dataclasses.fields(cls):
        kind = types[field.name]
        info = setting_info(field) or SettingInfo(help="", bounds=Bounds())
        literal = typing.get_origin(kind) is Literal
        bounds = {k: v for k, v in dataclasses.asdict(info.bounds).items() if v is not None}
        entry = {
            "key": field.name,
            "type": "choice" if literal else type_name(kind),
            "choices": list(typing.get_args(kind)) if literal else None,
            "default": field.default,
            "bounds": bounds,
            "interval": info.bounds.text(),
            "help": info.help,
        }
        for preset, values in (presets or {}).items():
            entry[preset] = values.get(field.name, field.default)
        out.append(entry)
    return out


def format_settings(rows: Iterable[Mapping[str, Any]], presets: Iterable[str] = ()) -> str:
    """The description of :func:`describe_settings` as an aligned plain-text table.

    Examples
    --------
    >>> @dataclasses.dataclass
    ... class Walk:
    ...     steps: int = setting(10, help="steps to take", ge=1, le=1000)
    >>> print(format_settings(describe_settings(Walk)))
    key    type  default  bounds     help
    steps  int   10       [1, 1000]  steps to take
    """
    presets = list(presets)
    header = ["key", "type", "default", *presets, "bounds", "help"]
    table = [header]
    for row in rows:
        kind = "|".join(map(str, row["choices"])) if row["choices"] else row["type"]
        values = [row["default"], *(row[p] for p in presets)]
        table.append([row["key"], kind, *map(_shown, values), row["interval"], row["help"]])
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]) for r in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value) if value == "" or " " in value else value
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---------------------------------------------------------------------------- converting
def convert_value(where: str, key: str, types: Mapping[str, Any], value: Any) -> Any:
    """Convert ``value`` (a CLI string or a Python value) to the type ``types[key]``.

    ``where`` starts every message (an experiment's name, ``lm train``). Types: ``int``,
    ``float``, ``bool`` (``1/0``, ``true/false``, ``yes/no``, ``on/off``), ``str`` and
    ``Literal[...]``. Bounds are not checked here but when the dataclass is built.

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
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                raise ConfigError(f"{where}: {key} must be a number, got '{value}'") from None
        if not math.isfinite(number):
            raise ConfigError(f"{where}: {key} must be a finite number, got '{value}'")
        return number
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    return value


def parse_assignments(items: list[str]) -> dict[str, str]:
    """Split CLI ``key=value`` strings into a dict; a malformed or repeated one is refused.

    Examples
    --------
    >>> parse_assignments(["steps=10", "mode=grid"])
    {'steps': '10', 'mode': 'grid'}
    >>> parse_assignments(["steps=10", "steps=20"])
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: --set steps is given twice ('10', then '20'); give it once
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got '{item}'")
        if key in out:
            raise ConfigError(
                f"--set {key} is given twice ('{out[key]}', then '{value}'); give it once"
            )
        out[key] = value
    return out


def bounded_number(
    kind: type, low: float, strict: bool = False, high: float | None = None
) -> Callable[[str], Any]:
    """An argparse ``type=`` that reads an int or a finite float at least (above) ``low`` and
    at most ``high``.

    Examples
    --------
    >>> rows = bounded_number(int, 1, high=1000)
    >>> rows("20")
    20
    >>> rows("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer in [1, 1000], got '0'
    >>> bounded_number(float, 0, strict=True)("inf")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a finite number > 0, got 'inf'
    """
    what = "an integer" if kind is int else "a finite number"
    bounds = Bounds(ge=None if strict else low, gt=low if strict else None, le=high)
    text = bounds.text()
    wording = f"in {text}" if "," in text else text

    def read(text_value: str) -> Any:
        try:
            value = kind(text_value)
        except ValueError:
            value = None
        ok = value is not None and math.isfinite(value) and bounds.contains(value)
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {what} {wording}, got '{text_value}'")
        return value

    read.__name__ = f"{kind.__name__} {wording}"  # argparse names the type in some messages
    return read
