"""Character-level language models on tiny Shakespeare: loss for time, against nanoGPT's preset.

Two tables, printed as Markdown (the README's performance section copies them):

1. **The ladder at a fixed budget**: every model of :data:`genailab.lm.MODELS` trained for
   the same wall time (``--ladder-seconds``, default 60) with the ``cpu`` preset, and its
   validation loss. The count bigram needs no budget: it counts the training split once;
   its loss is also computed exactly over every pair of the validation split, which is the
   known floor of a bigram on this split (about 2.48).
2. **The GPT against nanoGPT's CPU preset** (Karpathy's nanoGPT README, shakespeare_char on
   a CPU: 4 layers, 4 heads, 128 dims, context 64, batch 12, 2000 iterations, lr 1e-3,
   dropout 0; it reports val 1.88 after about 3 minutes on a MacBook and takes 106-120 s on
   this 2-core machine). The anchor is the ``nanogpt-cpu`` preset: those settings trained by
   genailab's own loop and model (learned positions, GELU), timed here on the same machine
   in the same run. Beside it, the default ``cpu`` preset with a budget of 60 s and of
   120 s (the schedule fitted to each budget). For each: tokens/s, wall time, the first
   evaluation at or below 1.89 and the validation loss at the end. Goal: ``cpu`` reaches
   val <= 1.89 within 60 s and <= 1.75 within 120 s.

Validation losses are the training loop's own estimate (the mean over ``eval_iters``
batches of the validation split, the same windows for every run of the same batch size),
as nanoGPT reports it. Wall times include the evaluations and checkpoints.

Three lines sampled from the 120-s model close the report.

Run: ``python benchmarks/lm.py [--data DIR] [--ladder-seconds S] [--skip-ladder] [--skip-anchor]
[--threads N]`` (about 9 minutes with the defaults). The corpus is ``DIR/tiny_shakespeare.txt``,
with ``DIR`` by default ``../shared/data`` beside the repository (1.1 MB: too large to keep in
the repository; the anchors above are for this corpus).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from data_folder import add_data_argument, missing_inputs
from genailab.lm import MODELS, CharTokenizer, load, load_corpus, train

CORPUS = "tiny_shakespeare.txt"
TARGETS = (1.89, 1.75)


def exact_bigram_loss(train_text: str, val_text: str, alpha: float) -> float:
    """Cross-entropy of an add-``alpha`` count bigram over every pair of the validation text."""
    tok = CharTokenizer.fit(train_text)
    train_ids = tok.encode(train_text)
    val_ids = tok.encode(val_text)
    V = tok.vocab_size
    counts = np.zeros((V, V))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    logp = np.log((counts + alpha) / (counts.sum(1, keepdims=True) + alpha * V))  # (V, V)
    return float(-logp[val_ids[:-1], val_ids[1:]].mean())


def run(corpus: str, model: str, preset: str, seconds: float | None, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        summary = train(
            corpus,
            model,
            preset=preset,
            max_seconds=seconds,
            max_iters=10**7 if seconds else None,  # max_iters at its bound: time ends the run
            out=out,
            overrides={"threads": threads},
            progress=False,
        )
        if model == "gpt":
            lm = load(out)
            summary["samples"] = [lm.generate("\n", 200, seed=s) for s in range(3)]
    return summary


def first_at_or_below(history: list[dict], target: float) -> float | None:
    """Wall seconds of the first evaluation with a validation loss <= ``target``."""
    hits = [h["wall_s"] for h in history if h["val_loss"] <= target]
    return hits[0] if hits else None


def seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.0f} s"


def ladder_table(corpus: str, budget: float, threads: int) -> None:
    text = load_corpus(corpus)
    print(f"\n## The ladder: every model for {budget:.0f} s of wall time (`cpu` preset)\n")
    print("| model | parameters | steps | tokens/s | val loss |")
    print("|---|---:|---:|---:|---:|")
    for model in MODELS:
        s = run(corpus, model, "cpu", None if model == "bigram" else budget, threads)
        note = ""
        if model == "bigram":
            alpha = 1.0  # BigramModel's default smoothing
            exact = exact_bigram_loss(text.train_text, text.val_text, alpha)
            note = f" (exact over the whole split: {exact:.4f})"
        print(
            f"| {model} | {s['num_parameters']:,} | {s['iters']:,} | "
            f"{s['tokens_per_s']:,.0f} | {s['val_loss']:.4f}{note} |",
            flush=True,
        )


def gpt_table(corpus: str, threads: int, anchor: bool) -> None:
    print("\n## The GPT against nanoGPT's CPU preset\n")
    rows = []
    if anchor:
        rows.append(
            (
                "`nanogpt-cpu` (anchor: nanoGPT's settings)",
                run(corpus, "gpt", "nanogpt-cpu", None, threads),
            )
        )
    rows.append(("`cpu`, 60 s budget", run(corpus, "gpt", "cpu", 60.0, threads)))
    rows.append(("`cpu`, 120 s budget", run(corpus, "gpt", "cpu", 120.0, threads)))
    print("| run | steps | tokens/s | wall | first val <= 1.89 | first val <= 1.75 | final val |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in rows:
        hits = [seconds(first_at_or_below(s["history"], t)) for t in TARGETS]
        print(
            f"| {name} | {s['iters']:,} | {s['tokens_per_s']:,.0f} | {s['wall_s']:.0f} s | "
            f"{hits[0]} | {hits[1]} | {s['val_loss']:.4f} |"
        )
    if anchor:
        base = rows[0][1]
        target = base["val_loss"]
        for name, s in rows[1:]:
            reached = first_at_or_below(s["history"], target)
            ratio = "" if reached is None else f" ({base['wall_s'] / reached:.2f}x sooner)"
            print(
                f"\n{name}: reaches the anchor's final val {target:.4f} at {seconds(reached)}"
                f" vs the anchor's {base['wall_s']:.0f} s{ratio}"
            )
    sixty, one_twenty = rows[-2][1], rows[-1][1]
    met = [sixty["val_loss"] <= TARGETS[0], one_twenty["val_loss"] <= TARGETS[1]]
    print(
        f"\ngoal val <= 1.89 in 60 s: {'met' if met[0] else 'NOT met'} "
        f"({sixty['val_loss']:.4f}); goal val <= 1.75 in 120 s: "
        f"{'met' if met[1] else 'NOT met'} ({one_twenty['val_loss']:.4f})"
    )
    print("\nThree samples from the 120-s model (temperature 0.8, seeds 0-2):\n")
    for sample in one_twenty["samples"]:
        line = next((ln for ln in sample.splitlines() if len(ln.strip()) > 20), sample)
        print(f"    {line.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_argument(parser)
    parser.add_argument("--ladder-seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--skip-ladder", action="store_true", help="only the GPT table")
    parser.add_argument("--skip-anchor", action="store_true", help="no nanogpt-cpu run")
    args = parser.parse_args(argv)
    if error := missing_inputs("benchmarks/lm.py", args.data, [CORPUS]):
        print(error, file=sys.stderr)
        return 2
    corpus = str(args.data / CORPUS)
    print(
        f"# genailab lm benchmark: torch {torch.__version__}, {args.threads} threads, "
        f"corpus {CORPUS} ({math.ceil(Path(corpus).stat().st_size / 1024)} KB)"
    )
    if not args.skip_ladder:
        ladder_table(corpus, args.ladder_seconds, args.threads)
    gpt_table(corpus, args.threads, not args.skip_anchor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
