"""Settings declared with their bounds and help: checked when built, described as plain data."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

import pytest

from genailab.errors import ConfigError
from genailab.settings import (
    Bounds,
    checked,
    describe_settings,
    format_settings,
    parse_assignments,
    setting,
    undeclared_fields,
)


@checked(where="walk")
@dataclass
class Walk:
    steps: int = setting(10, help="steps to take", ge=1, le=1000)
    rate: float = setting(0.5, help="step length", gt=0, lt=1)
    decay: float = setting(0.0, help="decay per step", ge=0)
    fast: bool = setting(False, help="skip the slow parts")
    mode: Literal["grid", "free"] = setting("grid", help="how a step is taken")
    label: str = setting("x", help="a name")

    def __post_init__(self):
        if self.mode == "free" and self.steps > 100:
            raise ValueError(f"free mode takes at most 100 steps, got {self.steps}")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"steps": 0}, "walk: steps must be in [1, 1000], got 0"),
        ({"steps": 1001}, "walk: steps must be in [1, 1000], got 1001"),
        ({"rate": 0.0}, "walk: rate must be in (0, 1), got 0.0"),
        ({"rate": 1.0}, "walk: rate must be in (0, 1), got 1.0"),
        ({"decay": -0.1}, "walk: decay must be in [0, inf), got -0.1"),
        ({"decay": math.inf}, "walk: decay must be a finite number, got inf"),
        ({"decay": math.nan}, "walk: decay must be a finite number, got nan"),
        ({"steps": 2.5}, "walk: steps must be an integer, got 2.5"),
        ({"steps": True}, "walk: steps must be an integer, got True"),
        ({"fast": "yes"}, "walk: fast must be true or false, got 'yes'"),
        ({"mode": "jump"}, "walk: mode must be one of grid, free, got 'jump'"),
        ({"label": 3}, "walk: label must be a string, got 3"),
        # the class's own rule runs after the bounds, and its message gets the same prefix
        ({"mode": "free", "steps": 200}, "walk: free mode takes at most 100 steps, got 200"),
    ],
)
def test_every_bad_value_is_refused_when_built(values, message):
    with pytest.raises(ConfigError) as err:
        Walk(**values)
    assert str(err.value) == message


def test_values_on_the_closed_bounds_are_accepted_and_replace_is_checked_too():
    assert Walk(steps=1).steps == 1 and Walk(steps=1000).steps == 1000
    assert Walk(rate=1e-9, decay=0.0).rate == 1e-9
    with pytest.raises(ConfigError, match="steps must be in"):
        dataclasses.replace(Walk(), steps=0)


def test_a_class_without_post_init_is_checked_too():
    @checked
    @dataclass
    class Plain:
        size: int = setting(3, help="a size", ge=1)

    with pytest.raises(ConfigError, match=r"^Plain: size must be in \[1, inf\), got 0$"):
        Plain(size=0)
    assert Plain(size=5).size == 5


def test_description_is_plain_data_with_every_field():
    rows = describe_settings(Walk, {"quick": {"steps": 3}})
    assert [r["key"] for r in rows] == ["steps", "rate", "decay", "fast", "mode", "label"]
    steps, rate, decay, fast, mode, _ = rows
    assert steps == {
        "key": "steps",
        "type": "int",
        "choices": None,
        "default": 10,
        "bounds": {"ge": 1, "le": 1000},
        "interval": "[1, 1000]",
        "help": "steps to take",
        "quick": 3,
    }
    assert rate["bounds"] == {"gt": 0, "lt": 1} and rate["interval"] == "(0, 1)"
    assert decay["interval"] == ">= 0" and decay["quick"] == 0.0
    assert fast["type"] == "bool" and fast["bounds"] == {}
    assert mode["type"] == "choice" and mode["choices"] == ["grid", "free"]


def test_formatted_table_aligns_its_columns():
    lines = format_settings(describe_settings(Walk, {"quick": {}}), ["quick"]).splitlines()
    assert lines[0].split() == ["key", "type", "default", "quick", "bounds", "help"]
    assert len(lines) == 7
    column = lines[0].index("default")
    assert all(line[column - 2 : column] == "  " for line in lines)
    assert "grid|free" in lines[5]


def test_help_is_required_and_one_line():
    with pytest.raises(TypeError, match="help must be one non-empty line"):
        setting(1, help="")
    with pytest.raises(TypeError, match="help must be one non-empty line"):
        setting(1, help="two\nlines")
    with pytest.raises(TypeError, match="give ge or gt"):
        setting(1, help="x", ge=0, gt=0)
    with pytest.raises(TypeError, match="empty interval"):
        Bounds(ge=2, le=1)

    @dataclass
    class Bare:
        size: int = 3
        name: str = setting("a", help="a name")

    assert undeclared_fields(Bare) == ["size"]


def test_repeated_assignments_are_refused():
    with pytest.raises(ConfigError, match=r"--set lr is given twice \('1', then '2'\)"):
        parse_assignments(["lr=1", "lr=2"])
