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
    assert genailab.list_experiments() == {name: e.title for name, e in found.items()}


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


def test_declarations_read_from_source_match_the_decorators_run_for_real():
    import importlib
    import inspect

    from genailab.lab.registry import _MARK

    for name, exp in discover().items():
        module = importlib.import_module(exp.module_name)
        meta = getattr(exp.config_class, _MARK)
        assert meta == {
            "name": name,
            "chapter": exp.chapter,
            "title": exp.title,
            "fps": exp.fps,
            "size": exp.size,
            "order": exp.order,
            "seconds": exp.seconds,
        }
        paragraphs = inspect.getdoc(module).split("\n\n")
        assert exp.explanation == "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def test_a_declaration_that_is_not_a_literal_is_refused(tmp_path):
    from genailab.lab.registry import read_declarations

    path = tmp_path / "demo.py"
    path.write_text(
        '"""Doc."""\nFPS = 5\n\n\n@experiment(name="d", chapter="x", title="t", fps=FPS)\n'
        "@dataclass\nclass Config:\n    seed: int = 0\n"
    )
    with pytest.raises(TypeError, match=r"demo.py:5: @experiment\(fps=...\) must be a literal"):
        read_declarations(path)
    path.write_text(
        '"""Doc\n\nin two paragraphs."""\n\n\n@experiment(name="d", chapter="x",\n'
        '    title="t", size=(320, 180))\n@dataclass\nclass Config:\n    pass\n'
    )
    (meta,) = read_declarations(path)
    assert meta == {
        "name": "d",
        "chapter": "x",
        "title": "t",
        "fps": 30,
        "size": (320, 180),
        "order": 0,
        "seconds": (40.0, 15.0),
        "explanation": "Doc\n\nin two paragraphs.",
    }


def test_describe_gives_every_key_with_type_default_quick_bounds_and_help():
    import dataclasses

    info = genailab.describe("gradient-descent")
    assert (info["name"], info["fps"], info["size"]) == ("gradient-descent", 30, [960, 540])
    exp = get("gradient-descent")
    rows = {row["key"]: row for row in info["settings"]}
    assert list(rows) == [f.name for f in dataclasses.fields(exp.config_class)]
    for key, row in rows.items():
        assert row["default"] == getattr(exp.config(), key)
        assert row["quick"] == getattr(exp.config(quick=True), key)
        assert row["help"]
    assert rows["mode"]["choices"] == ["grid", "normalized", "neighbor"]
    assert rows["points"]["bounds"] == {"ge": 1, "le": 100_000}
