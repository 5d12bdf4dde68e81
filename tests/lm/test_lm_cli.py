"""``lm train`` / ``lm sample`` through their parser, and sampling through the Python API."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from cli_process import assert_one_line_error, genailab
from genailab.errors import ConfigError
from genailab.lm import UnknownCharacterError
from genailab.lm.checkpoint import CheckpointError
from genailab.lm.cli import add_lm_commands, run_lm_command
from genailab.lm.sample import SamplingError, load
from genailab.lm.training import train


def _parse(argv):
    parser = argparse.ArgumentParser(prog="genailab")
    add_lm_commands(parser.add_subparsers(dest="verb", required=True))
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpt-run")
    train("cats", "gpt", preset="tiny", out=out, max_iters=40)
    return out


def test_generate_is_deterministic_for_a_seed_and_continues_the_prompt(run_dir):
    lm = load(run_dir)
    a = lm.generate("The cat", max_tokens=50, seed=1)
    assert a == lm.generate("The cat", max_tokens=50, seed=1)
    assert a != lm.generate("The cat", max_tokens=50, seed=2)
    assert a.startswith("The cat") and len(a) == len("The cat") + 50
    assert set(a) <= set(lm.tokenizer.chars)
    assert lm.iter == 40 and lm.val_loss == lm.history[-1]["val_loss"]


def test_empty_prompt_starts_from_a_new_line_and_greedy_is_the_argmax(run_dir):
    lm = load(run_dir)
    text = lm.generate("", max_tokens=30, seed=0)
    assert len(text) == 30
    greedy = lm.generate("c", max_tokens=1, temperature=0)
    logits = lm.model(torch.as_tensor(lm.tokenizer.encode("c"))[None])[0, -1]
    assert greedy[-1] == lm.tokenizer.chars[int(logits.argmax())]


def test_sampling_errors_are_clear(run_dir):
    lm = load(run_dir)
    with pytest.raises(UnknownCharacterError, match="not in the vocabulary: '\u00e9'"):
        lm.generate("caf\u00e9")
    with pytest.raises(SamplingError, match="temperature must be a number >= 0, got -1"):
        lm.generate("cat", temperature=-1)
    with pytest.raises(SamplingError, match="top_k must be None or an integer >= 1"):
        lm.generate("cat", top_k=0)
    with pytest.raises(CheckpointError, match="does not exist"):
        load(run_dir / "nope")


def test_cli_train_then_sample(tmp_path, capsys):
    out = tmp_path / "run"
    args = _parse(
        [
            "lm",
            "train",
            "--model",
            "mlp",
            "--preset",
            "tiny",
            "--max-iters",
            "20",
            "--out",
            str(out),
            "--set",
            "n_hidden=16",
            "--set",
            "lr=0.01",
            "--seed",
            "4",
        ]
    )
    assert run_lm_command(args) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("mlp on cats: 20 iters, val ") and line.endswith(str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["n_hidden"] == 16 and summary["config"]["lr"] == 0.01
    assert summary["seed"] == 4

    args = _parse(
        [
            "lm",
            "sample",
            str(out),
            "--prompt",
            "A cat",
            "--max-tokens",
            "25",
            "--seed",
            "3",
            "--top-k",
            "5",
            "--device",
            "cpu",
        ]
    )
    assert run_lm_command(args) == 0
    text = capsys.readouterr().out
    assert text == load(out).generate("A cat", max_tokens=25, top_k=5, seed=3) + "\n"


def test_cli_resume_continues_with_the_checkpoint_model(tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["lm", "train", "--preset", "tiny", "--out", out, "--quiet"]
    run_lm_command(_parse([*base, "--model", "lstm", "--max-iters", "10"]))
    run_lm_command(_parse([*base, "--resume", "--max-iters", "20"]))
    assert "lstm on cats: 20 iters" in capsys.readouterr().out.splitlines()[-1]


def test_cli_rejects_bad_settings_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key 'learning_rate'"):
        run_lm_command(
            _parse(
                [
                    "lm",
                    "train",
                    "--preset",
                    "tiny",
                    "--out",
                    str(tmp_path),
                    "--set",
                    "learning_rate=1",
                ]
            )
        )
    with pytest.raises(ConfigError, match="--set expects key=value, got 'lr'"):
        run_lm_command(_parse(["lm", "train", "--out", str(tmp_path), "--set", "lr"]))
    with pytest.raises(SystemExit):
        _parse(["lm", "train", "--model", "transformer"])


def test_genailab_lm_train_then_sample_end_to_end(tmp_path):
    out = str(tmp_path / "run")
    trained = genailab("lm", "train", "--preset", "tiny", "--out", out, "--max-iters", "30")
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.startswith("gpt on cats: 30 iters, val ")
    sampled = genailab(
        "lm", "sample", out, "--prompt", "The cat", "--max-tokens", "40", "--device", "cpu"
    )
    assert sampled.returncode == 0, sampled.stderr
    assert sampled.stdout == load(out).generate("The cat", max_tokens=40, seed=0) + "\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("lm", "sample", "/no/such/run"), "checkpoint '/no/such/run/ckpt.pt' does not exist"),
        (("lm", "train", "--corpus", "/no/such.txt"), "/no/such.txt"),
        (("lm", "train", "--preset", "tiny", "--set", "lrr=1"), "did you mean 'lr'"),
        (("lm", "train", "--model", "rnn"), "invalid choice: 'rnn'"),
        (("lm", "frobnicate"), "invalid choice: 'frobnicate'"),
        # inf once passed the check and crashed later converting the budget to steps
        (("lm", "train", "--max-seconds", "inf"), "a finite number in (0, 10000000], got 'inf'"),
        (("lm", "train", "--max-iters", "-1"), "an integer in [0, 10000000], got '-1'"),
        (("lm", "train", "--seed", "-1"), "an integer in [0, 4294967295], got '-1'"),
        (("lm", "train", "--seed", str(2**32)), "an integer in [0, 4294967295], got '4294967296'"),
        (("lm", "sample", "x", "--max-tokens", "-1"), "an integer in [0, 100000], got '-1'"),
        (("lm", "sample", "x", "--max-tokens", "100001"), "in [0, 100000], got '100001'"),
        (("lm", "sample", "x", "--temperature", "0"), "a finite number in (0, 100], got '0'"),
        (("lm", "sample", "x", "--temperature", "nan"), "a finite number in (0, 100], got 'nan'"),
        (("lm", "sample", "x", "--top-k", "0"), "an integer in [1, 1000000], got '0'"),
        (("lm", "sample", "x", "--seed", "1.5"), "an integer in [0, 4294967295], got '1.5'"),
        (("lm", "sample", "x", "--quiet"), "unrecognized arguments: --quiet"),
    ],
)
def test_genailab_lm_errors_are_one_line_with_exit_2(args, fragment):
    assert_one_line_error(genailab(*args), fragment)


def test_shared_flags_have_the_same_names_and_defaults_as_run_and_synth():
    train_args = _parse(["lm", "train"])
    sample_args = _parse(["lm", "sample", "DIR"])
    assert (train_args.device, sample_args.device) == ("auto", "auto")
    assert sample_args.seed == 0 and train_args.seed is None  # None: 0, or the checkpoint's
    assert train_args.out == "lm-out" and train_args.quiet is False
    assert not hasattr(sample_args, "quiet")  # sampling prints the text alone: nothing to mute
