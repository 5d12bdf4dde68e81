"""Config validation: every key and value from the CLI or Python is checked, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from genailab.errors import ConfigError
from genailab.lab.config import (
    build_config,
    check_config_class,
    convert_value,
    parse_assignments,
)
from genailab.settings import checked, seed_setting, setting


@checked(where="demo")
@dataclass
class Demo:
    steps: int = setting(10, help="steps", ge=1, le=100)
    rate: float = setting(0.5, help="rate", gt=0, le=1)
    verbose: bool = setting(False, help="say more")
    label: str = setting("x", help="a name")
    mode: Literal["grid", "normalized", "neighbor"] = setting("grid", help="how to step")
    seed: int = seed_setting()
    QUICK = dict(steps=3)

    def __post_init__(self):
        if self.mode == "neighbor" and self.steps > 50:
            raise ValueError(f"neighbor mode takes at most 50 steps, got {self.steps}")


TYPES = {
    "steps": int,
    "rate": float,
    "verbose": bool,
    "label": str,
    "mode": Literal["grid", "normalized", "neighbor"],
}


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("steps", "20", 20),
        ("steps", " 7 ", 7),
        ("rate", "1e-3", 1e-3),
        ("rate", "2", 2.0),
        ("verbose", "true", True),
        ("verbose", "No", False),
        ("verbose", "1", True),
        ("label", "hello", "hello"),
        ("mode", "neighbor", "neighbor"),
    ],
)
def test_strings_convert_to_the_field_type(key, text, value):
    got = convert_value("demo", key, TYPES, text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("steps", "2.5", "demo: steps must be an integer, got '2.5'"),
        ("steps", "ten", "demo: steps must be an integer, got 'ten'"),
        ("rate", "fast", "demo: rate must be a number, got 'fast'"),
        ("verbose", "maybe", "demo: verbose must be true or false, got 'maybe'"),
        (
            "mode",
            "neighbour",
            "demo: mode must be one of grid, normalized, neighbor; "
            "got 'neighbour'; did you mean 'neighbor'?",
        ),
        (
            "stpes",
            "3",
            "demo: unknown config key 'stpes'; did you mean 'steps'? "
            "(accepted: steps, rate, verbose, label, mode)",
        ),
        ("label", 3, "demo: label must be a string, got 3"),
    ],
)
def test_bad_values_name_the_key_and_what_is_accepted(key, value, message):
    with pytest.raises(ConfigError) as err:
        convert_value("demo", key, TYPES, value)
    assert str(err.value) == message


def test_python_values_are_accepted_but_bools_are_not_ints():
    assert convert_value("demo", "steps", TYPES, 4) == 4
    assert convert_value("demo", "rate", TYPES, 3) == 3.0
    with pytest.raises(ConfigError, match="must be an integer, got 'True'"):
        convert_value("demo", "steps", TYPES, True)


def test_layers_apply_in_order_defaults_quick_overrides_seed():
    assert build_config("demo", Demo) == Demo()
    assert build_config("demo", Demo, quick=True).steps == 3
    cfg = build_config("demo", Demo, quick=True, overrides={"steps": "5", "seed": "1"}, seed=9)
    assert (cfg.steps, cfg.seed) == (5, 9)


def test_bound_and_rule_errors_name_the_experiment():
    with pytest.raises(ConfigError, match=r"^demo: steps must be in \[1, 100\], got 0$"):
        build_config("demo", Demo, overrides={"steps": "0"})
    with pytest.raises(ConfigError, match=r"^demo: neighbor mode takes at most 50 steps, got 60$"):
        build_config("demo", Demo, overrides={"steps": "60", "mode": "neighbor"})


def test_assignments_are_parsed_and_malformed_ones_refused():
    assert parse_assignments(["a=1", "b = x=y"]) == {"a": "1", "b": "x=y"}
    for bad in ["steps", "=3", ""]:
        with pytest.raises(ConfigError, match="--set expects key=value"):
            parse_assignments([bad])


def test_config_classes_are_checked_when_declared():
    @dataclass
    class NoSeed:
        steps: int = 1
        QUICK = {}

    @dataclass
    class BadQuick:
        seed: int = seed_setting()
        QUICK = dict(steps=2)

    @dataclass
    class NoQuick:
        seed: int = seed_setting()

    @dataclass
    class ListField:
        seed: int = 0
        sizes: list = None
        QUICK = {}

    @dataclass
    class Undeclared:
        seed: int = seed_setting()
        steps: int = 3
        QUICK = {}

    @dataclass
    class HalfBounded:
        seed: int = seed_setting()
        steps: int = setting(3, help="steps", ge=1)
        QUICK = {}

    with pytest.raises(TypeError, match="needs a field 'seed: int'"):
        check_config_class("x", NoSeed)
    with pytest.raises(TypeError, match=r"x: declare steps with setting\(default, help="):
        check_config_class("x", Undeclared)
    with pytest.raises(TypeError, match="x: steps needs both a lower and an upper bound"):
        check_config_class("x", HalfBounded)
    with pytest.raises(ConfigError, match="unknown config key 'steps'"):
        check_config_class("x", BadQuick)
    with pytest.raises(TypeError, match="needs a QUICK preset"):
        check_config_class("x", NoQuick)
    with pytest.raises(TypeError, match="field 'sizes' has unsupported type"):
        check_config_class("x", ListField)
    check_config_class("demo", Demo)  # the well-formed one passes
