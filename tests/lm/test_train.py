"""Training: batches, the optimizer and its schedule, evaluation, budgets and kill-and-resume."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from genailab.errors import ConfigError, UnknownNameError
from genailab.lm import CharTokenizer, load, load_corpus
from genailab.lm.checkpoint import CheckpointError, load_checkpoint
from genailab.lm.models import build_model
from genailab.lm.train_config import PRESETS, make_config
from genailab.lm.train_loop import get_batch, make_optimizer
from genailab.lm.training import train

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_get_batch_windows_are_slices_of_the_data_and_targets_shift_by_one():
    data = torch.arange(100) * 3
    x, y = get_batch(data, block_size=8, batch_size=16, generator=torch.Generator().manual_seed(1))
    assert x.shape == y.shape == (16, 8)
    start = x[:, 0] // 3
    expected = (start[:, None] + torch.arange(9)) * 3  # each row is data[s : s + 9]
    assert torch.equal(x, expected[:, :-1]) and torch.equal(y, expected[:, 1:])
    assert int(start.max()) <= 100 - 9  # the last window still has its target


def test_weight_decay_applies_to_two_dimensional_weights_only():
    model = build_model("gpt", 10, n_layer=1, n_head=2, n_embd=8, block_size=8)
    opt = make_optimizer(model, make_config("tiny"), torch.device("cpu"))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == PRESETS["tiny"].weight_decay > 0
    assert no_decay["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decay["params"]) and all(
        p.dim() < 2 for p in no_decay["params"]
    )
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_make_config_layers_preset_model_sizes_overrides_and_names_bad_keys():
    cfg = make_config("tiny", "lstm", {"n_hidden": "48", "lr": "0.01"}, max_iters=7)
    assert (cfg.model, cfg.n_hidden, cfg.lr, cfg.max_iters) == ("lstm", 48, 0.01, 7)
    assert cfg.warmup_iters <= 7
    with pytest.raises(
        ConfigError, match=r"unknown config key 'batchsize'; did you mean 'batch_size'"
    ):
        make_config("tiny", overrides={"batchsize": 4})
    with pytest.raises(ConfigError, match="lr must be a number, got 'fast'"):
        make_config("tiny", overrides={"lr": "fast"})
    with pytest.raises(UnknownNameError, match=r"unknown preset 'tine'.*did you mean 'tiny'"):
        make_config("tine")
    with pytest.raises(ConfigError, match="the mlp model has no n_head"):
        train("cats", "mlp", preset="tiny", overrides={"n_head": 2}, out="unused")


def test_count_bigram_is_fitted_not_trained_and_matches_the_closed_form(tmp_path):
    summary = train("cats", "bigram", preset="tiny", out=tmp_path)
    assert summary["iters"] == 0 and summary["stopped"] == "counts"
    # the evaluation batches are the same windows every time: recompute their loss by hand
    corpus = load_corpus("cats")
    tok = CharTokenizer.fit(corpus.train_text)
    train_ids = tok.encode(corpus.train_text)
    V = tok.vocab_size
    counts = torch.zeros(V, V).index_put_(
        (torch.from_numpy(train_ids[:-1]), torch.from_numpy(train_ids[1:])),
        torch.ones(len(train_ids) - 1),
        accumulate=True,
    )
    logp = torch.log((counts + 1) / (counts.sum(1, keepdim=True) + V))  # add-one smoothing
    cfg = make_config("tiny", "bigram")
    gen = torch.Generator().manual_seed(1)  # seed + 1: the evaluation generator
    val = torch.from_numpy(tok.encode(corpus.val_text))
    losses = []
    for _ in range(cfg.eval_iters):
        x, y = get_batch(val, cfg.block_size, cfg.batch_size, gen)
        losses.append(-logp[x, y].mean().item())
    assert summary["val_loss"] == pytest.approx(sum(losses) / len(losses), abs=1e-5)


def test_training_lowers_the_loss_and_writes_the_summary(tmp_path):
    summary = train("cats", "gpt", preset="tiny", out=tmp_path, seed=3)
    V = summary["vocab_size"]
    first, last = summary["history"][0], summary["history"][-1]
    assert first["iter"] == 0 and first["val_loss"] == pytest.approx(math.log(V), abs=0.15)
    assert last["iter"] == summary["iters"] == PRESETS["tiny"].max_iters
    assert last["val_loss"] < math.log(V) - 0.5  # learned the letter frequencies at least
    assert [h["iter"] for h in summary["history"]] == [0, 20, 40, 60]
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    for key in ("val_loss", "train_loss", "iters", "tokens_per_s", "wall_s", "model", "corpus"):
        assert on_disk[key] == summary[key]
    assert on_disk["model"] == "gpt" and on_disk["corpus"] == "cats" and on_disk["preset"] == "tiny"
    assert summary["tokens_per_s"] > 0 and on_disk["device"] == "cpu"
    assert load_checkpoint(tmp_path)["iter"] == summary["iters"]


@pytest.mark.parametrize("model", ["mlp", "cnn", "lstm"])
def test_every_neural_model_trains_with_the_same_loop(tmp_path, model):
    summary = train("cats", model, preset="tiny", out=tmp_path, max_iters=40)
    assert summary["model"] == model and summary["iters"] == 40
    assert summary["val_loss"] < summary["history"][0]["val_loss"] - 0.3


def test_same_seed_same_run_other_seed_other_run(tmp_path):
    a = train("cats", "gpt", preset="tiny", out=tmp_path / "a", max_iters=20, seed=5)
    b = train("cats", "gpt", preset="tiny", out=tmp_path / "b", max_iters=20, seed=5)
    c = train("cats", "gpt", preset="tiny", out=tmp_path / "c", max_iters=20, seed=6)
    assert a["val_loss"] == b["val_loss"] != c["val_loss"]


def test_time_budget_stops_cleanly_with_a_checkpoint_and_a_summary(tmp_path):
    summary = train("cats", "gpt", preset="tiny", out=tmp_path, max_iters=10**6, max_seconds=0.3)
    assert summary["stopped"] == "max_seconds"
    assert 0 < summary["iters"] < 10**6
    assert summary["history"][-1]["iter"] == summary["iters"]
    assert load_checkpoint(tmp_path)["iter"] == summary["iters"]
    assert json.loads((tmp_path / "summary.json").read_text())["stopped"] == "max_seconds"


def test_bpe_tokenizer_trains_too(tmp_path):
    summary = train(
        "cats",
        "gpt",
        preset="tiny",
        out=tmp_path,
        max_iters=10,
        tokenizer="bpe",
        overrides={"bpe_vocab_size": 300},
    )
    assert summary["vocab_size"] == 300 and summary["tokenizer"] == "bpe"


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown backend 'numpy'"):
        train(backend="numpy", out=tmp_path)
    with pytest.raises(UnknownNameError, match="unknown tokenizer 'word'"):
        train(preset="tiny", tokenizer="word", out=tmp_path)
    with pytest.raises(UnknownNameError, match="unknown model 'gtp'"):
        train(model="gtp", preset="tiny", out=tmp_path)


# ---- kill and resume ---------------------------------------------------------------------------

CHILD = """
import os, signal, sys
import importlib
T = importlib.import_module("genailab.lm.training")
L = importlib.import_module("genailab.lm.train_loop")
calls = 0
real = L.get_batch
def get_batch(*args, **kwargs):  # SIGKILL ourselves mid-run: no cleanup, no finally
    global calls
    calls += 1
    if calls == {kill_at}:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
L.get_batch = get_batch
T.train({corpus!r}, "gpt", preset="tiny", out=sys.argv[1], max_iters=90, seed=2,
        overrides={{"eval_interval": 10, "dropout": 0.1}})
"""


def _run_child(out: Path, kill_at: int, corpus: str) -> int:
    code = textwrap.dedent(CHILD.format(kill_at=kill_at, corpus=corpus))
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-c", code, str(out)], env=env, timeout=120).returncode


def test_a_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_one(tmp_path):
    corpus = "cats"
    kwargs = dict(
        preset="tiny", max_iters=90, seed=2, overrides={"eval_interval": 10, "dropout": 0.1}
    )
    whole = train(corpus, "gpt", out=tmp_path / "whole", **kwargs)

    # 18 batches per 10 steps (10 training + 2 splits x 4 evaluation): call 150 is mid-way
    rc = _run_child(tmp_path / "killed", kill_at=150, corpus=corpus)
    assert rc == -signal.SIGKILL
    saved = load_checkpoint(tmp_path / "killed")
    assert 0 < saved["iter"] < 90 and not (tmp_path / "killed" / "summary.json").exists()

    resumed = train(corpus, None, out=tmp_path / "killed", resume=True)
    assert resumed["resumed_from"] == saved["iter"] and resumed["iters"] == 90
    assert resumed["val_loss"] == pytest.approx(whole["val_loss"], abs=1e-6)
    a = load_checkpoint(tmp_path / "whole")["model"]
    b = load_checkpoint(tmp_path / "killed")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    # the evaluations after the resume are those of the uninterrupted run
    later = [h for h in resumed["history"] if h["iter"] > saved["iter"]]
    expected = [h for h in whole["history"] if h["iter"] > saved["iter"]]
    assert [h["val_loss"] for h in later] == [h["val_loss"] for h in expected]


def test_resume_refuses_another_corpus_or_model(tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("a cat on a mat, a hat on a cat.\n" * 60)
    train(str(other), "gpt", preset="tiny", out=tmp_path / "run", max_iters=5)
    with pytest.raises(
        CheckpointError, match=r"it was trained on corpus .*other.txt.*not on 'cats'"
    ):
        train("cats", None, out=tmp_path / "run", resume=True)
    with pytest.raises(ConfigError, match="--model lstm differs from its model gpt"):
        train(str(other), "lstm", out=tmp_path / "run", resume=True)
    with pytest.raises(CheckpointError, match="does not exist"):
        train("cats", out=tmp_path / "nothing", resume=True)


# ---- the engine backend ------------------------------------------------------------------------


def test_engine_backend_trains_the_gpt_and_torch_reads_its_checkpoint(tmp_path):
    import numpy as np

    from genailab.engine.nn import GPT, GPTConfig
    from genailab.lm import load

    summary = train("cats", "gpt", preset="tiny", out=tmp_path, backend="engine")
    assert summary["backend"] == "engine" and summary["iters"] == 60
    assert summary["val_loss"] < summary["history"][0]["val_loss"] - 0.5
    ckpt = load_checkpoint(tmp_path)
    config = {k: v for k, v in ckpt["model_config"].items() if k != "model"}
    assert config["rotary"] is True  # the tiny preset's rotary positions, built by the engine
    engine = GPT(GPTConfig(**config))
    engine.load_state_dict({k: v.numpy() for k, v in ckpt["model"].items()})
    lm = load(tmp_path)  # the torch GPT with the engine's weights
    idx = lm.tokenizer.encode("The cat sat on the mat")[None, :16]
    expected = engine(idx)[0].data
    got = lm.model(torch.from_numpy(idx)).detach().numpy()
    np.testing.assert_allclose(got, expected, atol=2e-5)
    resumed = train("cats", None, out=tmp_path, resume=True, max_iters=70)
    assert resumed["backend"] == "engine" and resumed["iters"] == 70
    with pytest.raises(ConfigError, match="the engine backend trains the gpt only"):
        train("cats", "lstm", preset="tiny", out=tmp_path / "x", backend="engine")


# ---- data-parallel training under torchrun -----------------------------------------------------

DDP_CHILD = """
import importlib, sys
import torch
T = importlib.import_module("genailab.lm.training")
L = importlib.import_module("genailab.lm.train_loop")
finish = L.TorchRun._finish
def keep_weights(self, *args):  # every rank saves what it ended with
    torch.save(self.model.state_dict(), f"{sys.argv[1]}/rank{self.rank}.pt")
    return finish(self, *args)
L.TorchRun._finish = keep_weights
T.train("cats", "gpt", preset="tiny", out=sys.argv[1], max_iters=20, overrides={"batch_size": 4})
"""


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_matches_one_process_with_the_global_batch(tmp_path):

    # torch.distributed.run is torchrun itself, and ships with every torch install.
    (tmp_path / "child.py").write_text(DDP_CHILD)
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(tmp_path / "child.py"),
    ]
    subprocess.run([*cmd, str(tmp_path)], env=env, timeout=300, check=True)
    rank0 = torch.load(tmp_path / "rank0.pt")
    rank1 = torch.load(tmp_path / "rank1.pt")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # DDP kept them in step

    single = train(
        "cats",
        "gpt",
        preset="tiny",
        out=tmp_path / "one",
        max_iters=20,
        overrides={"batch_size": 8},
    )
    ddp = json.loads((tmp_path / "summary.json").read_text())
    assert ddp["world_size"] == 2 and ddp["val_loss"] == pytest.approx(single["val_loss"], abs=1e-5)
    weights = load_checkpoint(tmp_path / "one")["model"]
    assert all(torch.allclose(weights[k], rank0[k], atol=1e-5) for k in weights)


def test_on_eval_sees_every_evaluation_with_the_weights_of_that_step(tmp_path):
    seen = []

    def watch(snapshot):
        assert not snapshot.model.training
        assert load_checkpoint(snapshot.path)["iter"] == snapshot.iter  # saved before the call
        text = snapshot.generate("The cat", max_tokens=10, seed=0)
        seen.append((snapshot.iter, snapshot.val_loss, text))

    summary = train("cats", "gpt", preset="tiny", out=tmp_path, max_iters=40, on_eval=watch)
    assert [s[0] for s in seen] == [h["iter"] for h in summary["history"]] == [0, 20, 40]
    assert [s[1] for s in seen] == [h["val_loss"] for h in summary["history"]]
    assert seen[-1][2] == load(tmp_path).generate("The cat", max_tokens=10, seed=0)
    assert seen[0][2] != seen[-1][2]  # the weights moved between the calls


def test_a_time_budget_fits_the_schedule_to_it(tmp_path, monkeypatch):
    """Under max_seconds the learning rate has decayed to min_lr by the time the budget ends."""
    rates = []
    original = torch.optim.AdamW.step

    def spy(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", spy)
    summary = train("cats", "gpt", preset="tiny", out=tmp_path, max_iters=10**6, max_seconds=3.0)
    cfg = summary["config"]
    assert summary["stopped"] == "max_seconds" and summary["iters"] > 50
    assert rates[-1] < cfg["min_lr"] + 0.1 * (cfg["lr"] - cfg["min_lr"])
    assert max(rates) == pytest.approx(cfg["lr"], rel=0.01)


def test_genailab_lm_train_is_the_function_whatever_was_imported_first():
    import importlib

    importlib.import_module("genailab.lm.training")  # the module has its own name
    importlib.import_module("genailab.lm.train_loop")
    from genailab.lm import train as train_function

    assert callable(train_function) and train_function is train


def test_the_initial_weights_are_the_first_draws_after_the_seed(tmp_path):
    """train() seeds torch and builds the model once: the same seed and config outside give
    the same initial weights (it once built a throwaway default model first)."""
    first = {}

    def keep(snapshot):
        if snapshot.iter == 0:
            first.update({k: v.clone() for k, v in snapshot.model.state_dict().items()})

    summary = train("cats", "mlp", preset="tiny", out=tmp_path, max_iters=1, seed=7, on_eval=keep)
    from genailab.lm.models import model_from_config

    torch.manual_seed(7)
    twin = model_from_config(summary["model_config"])
    assert all(torch.equal(first[k], v) for k, v in twin.state_dict().items())
