"""``genailab cnn train``: it trains, writes what it says, resumes, refuses bad input in a line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import genailab.vision as vision
from cli_process import assert_one_line_error, genailab
from genailab.lab.cli import main
from genailab.vision.checkpoint import load_checkpoint
from genailab.vision.datasets import load_dataset, split

TINY = [
    "--set", "epochs=3",
    "--set", "n=600",
    "--set", "dropout=0",
    "--set", "augment=off",
    "--set", "size=16",
    "--set", "widths=8,8,8,8,8",
    "--set", "fc=16,16",
    "--set", "batch_size=32",
    "--set", "lr=0.01",
    "--set", "threads=1",
]  # fmt: skip
SRC = str(Path(vision.__file__).parents[2])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cnn-run")
    assert main(["cnn", "train", "--data", "mnist", "--out", str(out), "--quiet", *TINY]) == 0
    return out


def test_train_writes_a_checkpoint_and_a_summary_that_load_reads_back(run, capsys):
    summary = json.loads((run / "summary.json").read_text())
    for key in ("test_accuracy", "train_accuracy", "classes", "wall_s"):
        assert key in summary
    assert summary["classes"] == list("0123456789") and summary["steps"] == 3 * (480 // 32)
    assert summary["test_accuracy"] > 0.3  # 10 classes: chance is 0.1; 45 steps of a tiny net
    cnn = vision.load(run, device="cpu")
    _, test = split(load_dataset("mnist", n=600, size=16), 0.2, seed=0)
    assert cnn.accuracy(test.images, test.labels) == pytest.approx(summary["test_accuracy"])
    proba = cnn.predict_proba(test.images[:5].astype(np.float32) / 255)  # floats in [0, 1] too
    assert proba.shape == (5, 10) and np.allclose(proba.sum(1), 1, atol=1e-5)


def test_a_second_run_into_the_same_folder_resumes(run, capsys):
    before = load_checkpoint(run)["model"]
    assert main(["cnn", "train", "--data", "mnist", "--out", str(run), "--quiet", *TINY]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("cnn on mnist: 3 epochs, test ") and line.endswith(f"-> {run}")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["resumed_from"] == summary["steps"] == 45  # nothing left to train
    after = load_checkpoint(run)["model"]
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_resuming_with_other_settings_is_refused_and_names_fresh(run, capsys):
    other = [*TINY[:-2], "--set", "threads=2"]
    assert main(["cnn", "train", "--data", "mnist", "--out", str(run), "--quiet", *other]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("genailab: error: cannot resume") and "threads" in err
    assert "--fresh" in err and len(err.splitlines()) == 1


def test_a_corrupt_checkpoint_or_a_missing_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "ckpt.pt").write_bytes(b"not a checkpoint")
    assert main(["cnn", "train", "--out", str(tmp_path), "--quiet", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is corrupt or not a torch file" in err[0]
    assert main(["cnn", "train", "--data", str(tmp_path / "nope"), "--quiet", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--set", "epoch=3"], "did you mean 'epochs'"),
        (["--set", "widths=8,8"], "widths must be 5 positive integers"),
        (["--set", "lr=fast"], "lr must be a number, got 'fast'"),
        (["--max-seconds", "0"], "--max-seconds"),
    ],
)
def test_bad_settings_are_refused_before_torch_loads(args, fragment, tmp_path):
    result = genailab("cnn", "train", "--out", str(tmp_path), *args, cwd=tmp_path)
    assert_one_line_error(result, fragment)
    assert not any(tmp_path.iterdir())


def test_help_lists_every_config_key_without_importing_torch():
    code = (
        "import sys, contextlib, io\n"
        "from genailab.lab.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as text:\n"
        "    main(['cnn', 'train', '--help'])\n"
        "print('torch' in sys.modules, text.getvalue())\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert out.startswith("False ")
    for key in ("epochs", "widths", "batchnorm", "target", "threads"):
        assert f"\n  {key} " in out
    assert "torchrun --nproc-per-node 2 -m genailab cnn train" in out


def test_the_vision_package_exports_its_modules_names_lazily():
    names = ["load", "train", "pretrained_config", "AlexNet", "make_shapes", "load_dataset"]
    names += ["TrainedCNN", "sliding_dot_product", "receptive_fields", "nearest", "walk"]
    assert set(names) <= set(vision.__all__)
    from genailab.vision.trained import load

    assert vision.load is load


DDP_CHILD = """
import sys
from genailab.vision.training import train
train("mnist", out=sys.argv[1], progress=False, device="cpu", overrides=dict(
    epochs=1, n=400, size=16, widths="8,8,8,8,8", fc="16,16", batch_size=16, batchnorm=False,
    dropout=0.0, threads=1))
"""


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_matches_one_process_with_the_global_batch(tmp_path):
    # without batch norm and dropout the two ranks' mean gradient is the global batch's
    (tmp_path / "child.py").write_text(DDP_CHILD)
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    subprocess.run([*cmd, str(tmp_path / "child.py"), str(tmp_path / "ddp")], env=env, check=True)
    one = tmp_path / "one"
    args = ["cnn", "train", "--data", "mnist", "--out", str(one), "--quiet", "--device", "cpu"]
    sets = ["epochs=1", "n=400", "size=16", "widths=8,8,8,8,8", "fc=16,16", "batch_size=32"]
    sets += ["batchnorm=false", "dropout=0", "threads=1"]
    assert main([*args, *(x for s in sets for x in ("--set", s))]) == 0
    ddp = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    single = json.loads((one / "summary.json").read_text())
    assert ddp["world_size"] == 2 and ddp["steps"] == single["steps"] == 10
    a, b = load_checkpoint(tmp_path / "ddp")["model"], load_checkpoint(one)["model"]
    assert all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)
