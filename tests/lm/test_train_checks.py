"""``lm train`` does what each option says or refuses it in one line (exit 2), before any work.

Most cases run the ``genailab`` entry point in this process (``genailab.lab.cli.main``, the
code a shell runs, stderr captured), so that they stay fast; a few go through a real
subprocess (``tests/cli_process.py``) to prove the same line reaches a user's terminal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from types import SimpleNamespace

import pytest

from cli_process import assert_one_line_error, genailab
from genailab.lab.cli import main
from genailab.lm import load
from genailab.lm.checkpoint import load_checkpoint
from genailab.lm.train_config import TrainConfig
from genailab.lm.training import train

RESUMING = "lm train --resume continues the checkpoint's settings; "


def run_main(capsys, *argv):
    """``genailab ARGV`` in this process: its exit code and what it wrote, as a subprocess."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished tiny run: gpt, preset tiny, seed 0, char tokenizer, torch, 10 steps."""
    out = tmp_path_factory.mktemp("resumable")
    train("cats", "gpt", preset="tiny", out=out, max_iters=10, seed=0, progress=False)
    return out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seed", "9"], "--seed 9 differs from its seed 0: drop it, or train into another --out"),
        (["--preset", "cpu"], "--preset cpu differs from its preset tiny: drop it"),
        (["--tokenizer", "bpe"], "--tokenizer bpe differs from its tokenizer char: drop it"),
        (["--backend", "engine"], "--backend engine differs from its backend torch: drop it"),
        (["--model", "lstm"], "--model lstm differs from its model gpt: drop it"),
        (["--set", "lr=5"], "--set lr=5.0 differs from its lr 0.003: drop it"),
        (["--set", "rotary=off"], "--set rotary=False differs from its rotary True: drop it"),
        (["--set", "model=lstm"], "choose the model with --model, not --set model=lstm"),
    ],
)
def test_resume_refuses_any_setting_that_differs_from_the_checkpoint(
    run_dir, capsys, extra, message
):
    before = digest(run_dir / "ckpt.pt")
    result = run_main(capsys, "lm", "train", "--out", str(run_dir), "--resume", "--quiet", *extra)
    assert_one_line_error(result, message)
    if "--set model" not in message:
        assert RESUMING in result.stderr
    assert digest(run_dir / "ckpt.pt") == before  # refused before any work


def test_resume_refuses_an_unknown_key_and_a_shrinking_run(run_dir, capsys):
    argv = ["lm", "train", "--out", str(run_dir), "--resume", "--quiet"]
    result = run_main(capsys, *argv, "--set", "lr=5", "--set", "bogus=3", "--seed", "9")
    assert_one_line_error(result, "unknown config key 'bogus'")
    result = run_main(capsys, *argv, "--max-iters", "5")
    assert_one_line_error(result, "--max-iters 5 is below the 10 steps the checkpoint has done")


def test_resume_takes_the_same_values_and_extends_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    train("cats", "mlp", preset="tiny", out=out, max_iters=10, seed=4, progress=False)
    result = run_main(
        capsys,
        *("lm", "train", "--out", str(out), "--resume", "--quiet", "--max-iters", "20"),
        *("--seed", "4", "--preset", "tiny", "--model", "mlp", "--set", "lr=0.003"),
        *("--set", "max_iters=20", "--tokenizer", "char", "--backend", "torch"),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["iters"], summary["resumed_from"], summary["seed"]) == (20, 10, 4)
    assert summary["model"] == "mlp" and summary["preset"] == "tiny"


def test_resume_finds_its_own_corpus_file(tmp_path):
    text = tmp_path / "poem.txt"
    text.write_text("a cat on a mat, a hat on a cat.\n" * 60)
    out = tmp_path / "run"
    train(str(text), "gpt", preset="tiny", out=out, max_iters=5, progress=False)
    resumed = train(out=out, resume=True, max_iters=8, progress=False)  # no corpus given
    assert resumed["corpus"] == str(text) and resumed["iters"] == 8


def test_a_model_is_chosen_with_model_never_with_set(tmp_path, capsys):
    argv = ["lm", "train", "--preset", "tiny", "--out", str(tmp_path / "x"), "--quiet"]
    result = run_main(capsys, *argv, "--model", "mlp", "--set", "model=lstm")
    assert_one_line_error(result, "choose the model with --model lstm", "not --set model=lstm")
    assert_one_line_error(run_main(capsys, *argv, "--set", "model=gpt"), "--model gpt")
    assert not (tmp_path / "x").exists()


def test_a_run_too_big_for_memory_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "big"
    argv = ["lm", "train", "--preset", "tiny", "--out", str(out), "--quiet"]
    result = run_main(capsys, *argv, "--set", "n_layer=1024", "--set", "n_embd=4096")
    assert_one_line_error(
        result, "lm train: a gpt of 206.2B parameters with batch_size 8 x block_size 16 would "
        "need about", "GiB of memory; "
    )  # fmt: skip
    # the batch times the context, on a corpus long enough for the windows
    corpus = tmp_path / "long.txt"
    corpus.write_text("the cat sat on the mat\n" * 40_000)
    result = run_main(
        capsys, *argv, "--corpus", str(corpus), "--set", "batch_size=65536", "--set",
        "block_size=8192",
    )  # fmt: skip
    assert_one_line_error(result, "with batch_size 65536 x block_size 8192 would need about")
    assert not out.exists()


def test_a_bound_is_refused_in_one_line_in_a_real_process(tmp_path):
    result = genailab("lm", "train", "--out", str(tmp_path / "x"), "--set", "n_embd=100000")
    assert_one_line_error(result, "lm train: n_embd must be in [0, 65536], got 100000")


def test_a_resume_refusal_reaches_the_terminal_in_one_line(run_dir):
    result = genailab("lm", "train", "--out", str(run_dir), "--resume", "--seed", "9")
    assert_one_line_error(result, RESUMING + "--seed 9 differs from its seed 0")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lr": "0"}, "lm train: lr must be in (0, 10], got 0.0"),
        ({"lr": "11"}, "lm train: lr must be in (0, 10], got 11.0"),
        ({"dropout": "1"}, "lm train: dropout must be in [0, 1), got 1.0"),
        ({"block_size": "0"}, "lm train: block_size must be in [1, 16384], got 0"),
        ({"batch_size": "65537"}, "lm train: batch_size must be in [1, 65536], got 65537"),
        ({"bpe_vocab_size": "100"}, "lm train: bpe_vocab_size must be in [256, 65536], got 100"),
        ({"lr": "1e-3", "min_lr": "1e-2"}, "lm train: min_lr (0.01) must be at most lr (0.001)"),
        ({"warmup_iters": "80"}, "lm train: warmup_iters (80) exceeds max_iters (60)"),
        ({"n_head": "2"}, "lm train: the mlp model has no n_head; its sizes are"),
    ],
)
def test_every_bad_value_is_named(tmp_path, overrides, message):
    from genailab.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        train("cats", "mlp", preset="tiny", out=tmp_path, overrides=overrides)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert not any(tmp_path.iterdir())


def test_help_lists_every_key_with_its_type_default_presets_bounds_and_help():
    result = genailab("lm", "train", "--help")
    assert result.returncode == 0, result.stderr
    table = result.stdout[result.stdout.index("training config keys") :]
    header = next(line for line in table.splitlines() if line.strip().startswith("key"))
    assert header.split() == ["key", "type", "default", "tiny", "nanogpt-cpu", "gpu", "bounds",
                              "help"]  # fmt: skip
    rows = {line.split()[0]: line for line in table.splitlines()[1:] if line.startswith("  ")}
    for field in dataclasses.fields(TrainConfig):
        assert field.name in rows, field.name
        assert field.metadata["genailab.setting"].help in rows[field.name], field.name
    assert rows["lr"].split()[:7] == ["lr", "float", "0.003", "0.003", "0.001", "0.001", "(0,"]
    assert rows["n_embd"].split()[2:7] == ["0", "16", "128", "384", "[0,"]
    for flag in ("--corpus", "--seed N", "--device", "--out DIR", "--quiet", "--resume"):
        assert flag in result.stdout


# ---- the engine backend builds what it records ----------------------------------------------


@pytest.mark.parametrize("rotary", ["true", "false"])
def test_engine_records_and_builds_its_positions_and_sample_loads_them(tmp_path, capsys, rotary):
    import numpy as np
    import torch

    from genailab.engine.nn import GPT, GPTConfig

    out = tmp_path / "engine"
    argv = ["lm", "train", "--preset", "tiny", "--backend", "engine", "--max-iters", "6"]
    result = run_main(capsys, *argv, "--out", str(out), "--quiet", "--set", f"rotary={rotary}")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    ckpt = load_checkpoint(out)
    built = rotary == "true"
    assert summary["config"]["rotary"] is built and summary["model_config"]["rotary"] is built
    assert ckpt["model_config"] == summary["model_config"]
    assert ("transformer.wpe.weight" in ckpt["model"]) is not built
    config = {k: v for k, v in ckpt["model_config"].items() if k != "model"}
    engine = GPT(GPTConfig(**config))
    engine.load_state_dict({k: v.numpy() for k, v in ckpt["model"].items()})
    lm = load(out, device="cpu")  # the torch GPT, the same model
    idx = lm.tokenizer.encode("The cat sat on th")[None, :16]
    got = lm.model(torch.from_numpy(idx)).detach().numpy()
    np.testing.assert_allclose(got, engine(idx)[0].data, atol=2e-5)
    sampled = run_main(capsys, "lm", "sample", str(out), "--max-tokens", "12", "--device", "cpu")
    assert sampled.returncode == 0 and sampled.stdout == lm.generate("", max_tokens=12) + "\n"


def test_a_corpus_long_enough_in_characters_but_short_in_bpe_tokens_is_refused(tmp_path):
    from genailab.lm.corpus import CorpusError

    corpus = tmp_path / "short.txt"
    corpus.write_text("the cat sat on the mat. " * 40)  # 960 characters, a few dozen BPE tokens
    with pytest.raises(CorpusError) as err:
        train(corpus, "gpt", preset="tiny", out=tmp_path / "run", max_iters=1, tokenizer="bpe")
    message = str(err.value)
    assert "\n" not in message
    assert "split is" in message and "too short for block_size 16 (each split needs 68)" in message
    train(corpus, "gpt", preset="tiny", out=tmp_path / "run", max_iters=1)  # chars are enough
