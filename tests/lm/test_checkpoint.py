"""Checkpoints: atomic writes, exact random states, and one-line errors for bad files."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from genailab.lm.checkpoint import (
    REQUIRED,
    CheckpointError,
    CheckpointNotFoundError,
    load_checkpoint,
    rng_states,
    save_checkpoint,
    set_rng_states,
)
from genailab.lm.models import build_model, model_from_config
from genailab.lm.training import train


def _state(it=7):
    state = {key: {} for key in REQUIRED}
    state.update(iter=it, model={"w": torch.arange(6.0).reshape(2, 3)})
    return state


def test_round_trip_keeps_tensors_and_values_and_leaves_no_temporary_file(tmp_path):
    path = save_checkpoint(tmp_path / "run" / "ckpt.pt", _state())
    data = load_checkpoint(tmp_path / "run")  # a folder finds its ckpt.pt
    assert data["iter"] == 7 and torch.equal(data["model"]["w"], torch.arange(6.0).reshape(2, 3))
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.pt"]


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "ckpt.pt", _state())

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, _state(8))
    assert load_checkpoint(path)["iter"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_random_states_restore_exactly():
    saved = rng_states()
    first = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_states(saved)
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(first[0], again[0])
    assert np.array_equal(first[1], again[1]) and first[2] == again[2]


def test_the_checkpoint_alone_rebuilds_the_trained_model(tmp_path):
    train("cats", "lstm", preset="tiny", out=tmp_path, max_iters=5)
    ckpt = load_checkpoint(tmp_path)
    model = model_from_config(ckpt["model_config"])
    model.load_state_dict(ckpt["model"])
    assert ckpt["model_config"]["model"] == "lstm" and ckpt["tokenizer"]["kind"] == "char"
    assert ckpt["optimizer"]["state"] and ckpt["train_config"]["max_iters"] == 5
    assert len(ckpt["corpus"]["sha256"]) == 64 and ckpt["corpus"]["name"] == "cats"
    assert set(ckpt["rng"]) >= {"torch", "numpy", "python", "batches"}


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match=r"checkpoint '.*ckpt.pt' does not exist"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a checkpoint at all", b"PK\x03\x04 truncated zip"],
    ids=["empty", "text", "zip-header"],
)
def test_corrupt_files_get_one_line(tmp_path, content):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"is corrupt or not a torch file") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_a_truncated_checkpoint_is_corrupt(tmp_path):
    path = save_checkpoint(tmp_path / "ckpt.pt", _state())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="is corrupt or not a torch file"):
        load_checkpoint(path)


def test_foreign_torch_files_are_refused(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save(build_model("gpt", 5, n_layer=1, n_head=1, n_embd=4).state_dict(), path)
    with pytest.raises(CheckpointError, match="not a genailab language-model checkpoint"):
        load_checkpoint(path)
    torch.save({"format": "genailab-lm-checkpoint", "version": 99}, path)
    with pytest.raises(CheckpointError, match="format version 99; this genailab reads version 1"):
        load_checkpoint(path)
    torch.save({"format": "genailab-lm-checkpoint", "version": 1, "iter": 3}, path)
    with pytest.raises(CheckpointError, match="lacks model_config, model, tokenizer"):
        load_checkpoint(path)


def test_a_pickled_object_is_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "genailab-lm-checkpoint", "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="is corrupt or not a torch file"):
        load_checkpoint(path)
