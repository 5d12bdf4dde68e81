"""Discovery of experiments, their metadata and their explanations."""

from __future__ import annotations

import pytest

import genailab
from genailab.errors import UnknownNameError
from genailab.lab.registry import CHAPTERS, discover, experiment, get


def test_discovery_finds_every_experiment_in_chapter_order():
    found = discover()
    assert "gradient-descent" in found
    ranks = [(CHAPTERS.index(e.chapter), e.order) for e in found.values()]
    assert ranks == sorted(ranks)
    ladder = [name for name, e in found.items() if e.chapter == "From zero to GPT"]
    assert ladder[0] == "switches-and-lights"
    assert ladder.index("overfitting") < ladder.index("lm-ladder") < ladder.index("attention")
    assert genailab.experiments() == {name: e.title for name, e in found.items()}


def test_each_experiment_is_complete():
    for name, exp in discover().items():
        assert exp.name == name and exp.title and exp.chapter in CHAPTERS
        assert callable(exp.frames) and callable(exp.draw)
        width, height = exp.size
        assert width % 2 == 0 and height % 2 == 0
        # The explanation is the module docstring: prose, one paragraph at least.
        assert len(exp.explanation.split()) >= 40, f"{name}: explanation too short"
        exp.config()
        exp.config(quick=True)


def test_unknown_names_are_refused_with_a_suggestion():
    with pytest.raises(UnknownNameError) as err:
        get("gradient-decent")
    assert str(err.value) == (
        "unknown experiment 'gradient-decent'; did you mean "
        "'gradient-descent'? (see `genailab list`)"
    )


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="unknown chapter 'Chapter 9'"):
        experiment(name="x", chapter="Chapter 9", title="x")
