"""Training: it learns, checkpoints, resumes to the same weights, keeps to a time budget."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from genailab.errors import ConfigError
from genailab.vision import checkpoint as ckpt_module
from genailab.vision.checkpoint import CheckpointError
from genailab.vision.datasets import load_dataset, split
from genailab.vision.trained import load
from genailab.vision.training import affine, attribute_accuracies, random_affine, train

TINY = {
    "widths": "8,8,8,8,8",
    "fc": "32,32",
    "batch_size": 32,
    "threads": 1,
    "dropout": 0.0,
    "augment": False,
}


@pytest.fixture(scope="module")
def digits():
    return split(load_dataset("mnist", n=800, size=16), 0.25, seed=0)


@pytest.fixture(scope="module")
def run(tmp_path_factory, digits):
    out = tmp_path_factory.mktemp("mnist")
    seen = []
    cnn, summary = train(
        digits,
        out=out,
        overrides={**TINY, "epochs": 4, "lr": 1e-2},
        progress=False,
        device="cpu",
        on_epoch=lambda e, c, m: seen.append((e, m, c.model.training)),
    )
    return out, cnn, summary, seen


def test_it_learns_and_reports(run):
    out, _cnn, summary, seen = run
    assert summary["test_accuracy"] > 0.75  # 10 classes: chance is 0.1
    assert [e for e, _, _ in seen] == [1, 2, 3, 4] and not any(training for _, _, training in seen)
    assert seen[-1][1]["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    written = json.loads((out / "summary.json").read_text())
    for key in ("test_accuracy", "train_accuracy", "classes", "wall_s", "images_per_s", "history"):
        assert key in written
    assert written["classes"] == list("0123456789") and len(written["history"]) == 4


def test_load_gives_the_same_network(run, digits):
    out, cnn, summary, _ = run
    again = load(out, device="cpu")
    _, test = digits
    assert np.allclose(again.predict_proba(test.images), cnn.predict_proba(test.images), atol=1e-6)
    assert again.accuracy(test.images, test.labels) == pytest.approx(summary["test_accuracy"])
    assert again.classes == cnn.classes and again.data_name == "mnist"


def test_a_killed_run_resumes_to_the_same_weights(digits, tmp_path):
    # augmentation and dropout on: their random states must come back too
    noisy = {**TINY, "epochs": 3, "lr": 1e-2, "augment": True, "dropout": 0.2}
    cnn, _ = train(digits, overrides=noisy, progress=False, device="cpu")

    def stop(epoch, _cnn, _metrics):
        torch.rand(5)  # a hook that draws random numbers changes nothing
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(
            digits,
            out=tmp_path,
            overrides=noisy,
            progress=False,
            device="cpu",
            on_epoch=stop,
        )
    assert ckpt_module.load_checkpoint(tmp_path)["epoch"] == 1
    resumed, summary = train(
        digits,
        out=tmp_path,
        overrides=noisy,
        progress=False,
        device="cpu",
    )
    assert summary["resumed_from"] == summary["steps"] // 3
    for (name, a), b in zip(
        cnn.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    with pytest.raises(CheckpointError, match=r"its lr is 0\.01, this run's 0\.02"):
        train(digits, out=tmp_path, overrides={**noisy, "lr": 2e-2}, progress=False)


def test_a_time_budget_stops_cleanly_with_a_checkpoint(digits, tmp_path):
    _cnn, summary = train(
        digits,
        out=tmp_path,
        overrides={**TINY, "epochs": 1000},
        max_seconds=0.5,
        progress=False,
        device="cpu",
    )
    assert summary["stopped"] == "max_seconds" and 0 < summary["steps"] < 1000 * 14
    assert load(tmp_path).summary["steps"] == summary["steps"]
    with pytest.raises(ConfigError, match="max_seconds"):
        train(digits, max_seconds=-1)


def test_corrupt_and_foreign_checkpoints_are_one_line_errors(tmp_path):
    (tmp_path / "ckpt.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError) as info:
        load(tmp_path)
    assert "corrupt" in str(info.value) and "\n" not in str(info.value)
    torch.save({"format": "something-else"}, tmp_path / "ckpt.pt")
    with pytest.raises(CheckpointError, match="not a genailab CNN checkpoint"):
        load(tmp_path)


def test_affine_matches_rot90_and_roll():
    x = torch.rand(2, 3, 8, 8)
    zero, one = torch.zeros(2), torch.ones(2)
    turned = affine(x, torch.full((2,), torch.pi / 2), one, torch.zeros(2, 2))
    assert torch.allclose(turned, torch.rot90(x, 1, (2, 3)), atol=1e-5)
    shifted = affine(x, zero, one, torch.tensor([[2 / 8, 0.0]] * 2))  # two pixels right
    assert torch.allclose(shifted[..., 2:], x[..., :-2], atol=1e-5)
    g = torch.Generator().manual_seed(0)
    moved = random_affine(x, g, 0.1, 10, 0.1)
    assert moved.shape == x.shape and not torch.allclose(moved, x)


def test_shapes_attribute_accuracies():
    data = load_dataset("shapes", n=60)
    truth = attribute_accuracies(data, data.labels, 30)
    assert truth == {"shape_accuracy": 1.0, "colour_accuracy": 1.0}
    wrong_colour = data.labels - data.attributes["colour"] + (data.attributes["colour"] + 1) % 6
    got = attribute_accuracies(data, wrong_colour, 30)
    assert got == {"shape_accuracy": 1.0, "colour_accuracy": 0.0}
