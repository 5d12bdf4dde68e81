"""The ``genailab`` command, through a real subprocess: exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest

from cli_process import assert_one_line_error, genailab


def test_list_names_every_experiment():
    result = genailab("list")
    assert result.returncode == 0
    assert "gradient-descent" in result.stdout
    assert "Gradient descent without a learning rate" in result.stdout


@pytest.mark.video
def test_run_writes_outputs_and_reports_them(tmp_path):
    result = genailab(
        "run",
        "gradient-descent",
        "--quick",
        "--out",
        str(tmp_path),
        "--seed",
        "4",
        "--set",
        "steps=5",
        "--set",
        "mode=neighbor",
        "--size",
        "320x180",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "gradient-descent" / "summary.json").read_text())
    assert summary["config"]["mode"] == "neighbor" and summary["seed"] == 4
    assert summary["size"] == [320, 180]
    assert summary["command"] == (
        "genailab run gradient-descent --quick --size 320x180 --seed 4 --set steps=5 "
        "--set mode=neighbor"
    )
    assert str(tmp_path / "gradient-descent" / "video.mp4") in result.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["run", "gradient-decent"],
            ["unknown experiment 'gradient-decent'", "did you mean 'gradient-descent'"],
        ),
        (
            ["run", "gradient-descent", "--set", "stpes=3"],
            ["unknown config key 'stpes'", "accepted: points, steps, mode"],
        ),
        (
            ["run", "gradient-descent", "--set", "points=many"],
            ["points must be an integer", "'many'"],
        ),
        (
            ["run", "gradient-descent", "--set", "mode=newton"],
            ["mode must be one of grid, normalized, neighbor", "'newton'"],
        ),
        (
            ["run", "gradient-descent", "--set", "points=0"],
            ["points must be in [1, 100000], got 0"],
        ),
        (["run", "gradient-descent", "--set", "steps"], ["--set expects key=value, got 'steps'"]),
        (["run", "gradient-descent", "--format", "avi"], ["invalid choice: 'avi'", "mp4"]),
        (["run", "gradient-descent", "--size", "321x180"], ["WIDTHxHEIGHT, two even numbers"]),
        (
            ["run", "gradient-descent", "--size", "100000x100000"],
            ["width in [64, 3840] and height in [64, 2160]; got '100000x100000'"],
        ),
        (
            ["run", "gradient-descent", "--seed", "abc"],
            ["--seed", "expected an integer in [0, 4294967295], got 'abc'"],
        ),
        (["run", "gradient-descent", "--seed", "-1"], ["--seed", "got '-1'"]),
        (["run", "gradient-descent", "--fps", "-5"], ["--fps: expected an integer in [1, 60]"]),
        (["run", "gradient-descent", "--fps", "0"], ["--fps", "[1, 60], got '0'"]),
        (["tour", "--fps", "61"], ["--fps", "[1, 60], got '61'"]),
        (
            ["run", "gradient-descent", "--set", "points=1000000000"],
            ["points must be in [1, 100000], got 1000000000"],
        ),
        (
            ["run", "gradient-descent", "--device", "cuda"],
            ["gradient-descent runs on numpy and has no device setting"],
        ),
        (["run", "gradient-decent", "--help"], ["unknown experiment 'gradient-decent'"]),
        (["dance"], ["invalid choice: 'dance'"]),
        ([], ["the following arguments are required"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, fragments):
    assert_one_line_error(genailab(*args), *fragments)


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = genailab("run", "gradient-descent", "--quick", "--out", str(blocker / "out"))
    assert_one_line_error(result, "cannot write to output folder", str(blocker / "out"))


def test_gallery_of_a_missing_or_empty_folder(tmp_path):
    assert_one_line_error(genailab("gallery", str(tmp_path / "nowhere")), "does not exist")
    assert_one_line_error(genailab("gallery", str(tmp_path)), "no runs found in")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json")
    assert_one_line_error(genailab("gallery", str(tmp_path)), "cannot read run summary", "broken")


@pytest.mark.video
def test_tour_renders_what_it_can_and_prints_the_gallery_path(tmp_path, monkeypatch, capsys):
    import dataclasses
    import types

    from genailab.lab import cli, registry

    real = registry.get("gradient-descent")

    def frames_that_fail(cfg):
        raise RuntimeError("broken on purpose")
        yield

    broken = dataclasses.replace(real, name="broken")
    # Experiment.module is imported on first use; hand this one a module that fails instead.
    broken.__dict__["module"] = types.SimpleNamespace(
        **{**vars(real.module), "frames": frames_that_fail}
    )
    broken.__dict__["config_class"] = real.config_class
    monkeypatch.setattr(cli, "discover", lambda: {"gradient-descent": real, "broken": broken})
    monkeypatch.setattr(registry, "discover", lambda: {"gradient-descent": real, "broken": broken})
    code = cli.main(["tour", "--quick", "--quiet", "--out", str(tmp_path), "--size", "320x180"])
    out, err = capsys.readouterr()
    assert code == 1  # one experiment failed: the tour says so, but still renders the rest
    assert "broken: failed: RuntimeError: broken on purpose" in err
    assert out.strip().splitlines()[-1] == str((tmp_path / "index.html").resolve())
    page = (tmp_path / "index.html").read_text()
    assert "gradient-descent/video.mp4" in page and "broken/" not in page


def test_the_device_choices_are_those_of_genailab_device():
    from genailab.device import DEVICES
    from genailab.lab.cli import DEVICE_CHOICES

    assert DEVICE_CHOICES == DEVICES  # the CLI keeps its own copy: genailab.device loads torch
