"""Byte-level BPE training: genailab against HuggingFace ``tokenizers``, same text, same vocabulary.

:meth:`genailab.lm.BPETokenizer.train` (numpy: each merge counts every adjacent pair of the
whole sequence with one ``np.unique``, then merges the winner) learns ``vocab_size - 256``
merges from the text. Its anchors, timed in the same run on the same machine:

1. HuggingFace ``tokenizers`` (Rust, incremental pair counts and a priority queue), set up to
   solve the same problem: a byte-level alphabet of the 256 byte values, no splitting into
   words (``ByteLevel(use_regex=False)``: the text is one sequence, as genailab sees it),
   ``min_frequency=2`` (genailab stops when no pair repeats), the same vocabulary size. Ties
   between equally frequent pairs are broken differently, so the merges may differ after the
   first few; the tokens per byte of each tokenizer on its training text show that both did
   the same amount of compression. A second ``tokenizers`` row splits the text into words
   first, GPT-2's way (``use_regex=True``), the regime the library is built for: a different
   and smaller problem (no merge crosses a word boundary, so it compresses less), shown for
   scale, not as the anchor.
2. The textbook loop in plain Python (minbpe's ``BasicTokenizer``: a dict of pair counts and a
   list rebuilt per merge), the algorithm both implement, with genailab's tie-break; its merges
   must equal genailab's (checked here).

Each time is the best of ``--repeats`` runs (the figure least disturbed by other jobs on a
shared machine). Goal: 512 tokens on the cat poems (44 KB) in <= 5 s.

Run: ``python benchmarks/bpe.py [--text cats|PATH] [--vocab N] [--repeats N] [--threads N]``
(the ``bench`` extra brings ``tokenizers``; without it, the anchor row says how to install it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

GOAL_S = 5.0  # 512 tokens on the cat poems

# The plain-Python trainer is the tests' reference (tests/bpe_reference.py); one copy serves both.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bpe_reference import reference_train  # noqa: E402


def best_time(work: Callable[[], object], repeats: int) -> tuple[float, object]:
    """The shortest wall time of ``repeats`` runs of ``work`` and its (deterministic) result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def huggingface_train(text: str, vocab_size: int, split_words: bool = False):
    """A ``tokenizers`` BPE trained on ``text``: one byte-level sequence, or GPT-2's words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(
        add_prefix_space=False, use_regex=split_words
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tokenizer.train_from_iterator([text], trainer=trainer)
    return tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="cats", help="'cats' (the shipped corpus) or a path")
    parser.add_argument("--vocab", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="for numpy's BLAS and tokenizers")
    parser.add_argument("--no-python", action="store_true", help="skip the slow plain loop")
    args = parser.parse_args()
    # Before numpy and tokenizers start their thread pools.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[name] = str(args.threads)

    from genailab.lm import BPETokenizer, load_corpus

    if args.text == "cats":
        text, label = load_corpus("cats").text, "the cat poems"
    else:
        path = Path(args.text)
        if not path.is_file():
            sys.exit(f"--text {args.text!r}: no such file (give 'cats' or the path of a text)")
        text, label = path.read_text(encoding="utf-8"), path.name
    n_bytes = len(text.encode("utf-8"))
    print(
        f"byte-level BPE, {args.vocab} tokens, on {label} ({n_bytes:,} bytes); "
        f"best of {args.repeats}, {args.threads} threads; goal <= {GOAL_S:.0f} s (cat poems)"
    )

    seconds, ours = best_time(lambda: BPETokenizer.train(text, args.vocab), args.repeats)
    rows = [
        ("genailab BPETokenizer.train", seconds, len(ours.merges), len(ours.encode(text)) / n_bytes)
    ]
    try:
        import tokenizers
    except ImportError:
        anchor = None
        print("HuggingFace tokenizers is not installed: pip install -e '.[bench]'")
    else:
        anchor, hf = best_time(lambda: huggingface_train(text, args.vocab), args.repeats)
        hf_ids = hf.encode(text).ids
        rows.append(
            (
                f"HuggingFace tokenizers {tokenizers.__version__}",
                anchor,
                hf.get_vocab_size() - 256,
                len(hf_ids) / n_bytes,
            )
        )
        words, hf_words = best_time(lambda: huggingface_train(text, args.vocab, True), args.repeats)
        rows.append(
            (
                "tokenizers, GPT-2 word split (other task)",
                words,
                hf_words.get_vocab_size() - 256,
                len(hf_words.encode(text).ids) / n_bytes,
            )
        )
    if not args.no_python:
        plain, merges = best_time(lambda: reference_train(text, args.vocab), 1)
        if merges != ours.merges:
            sys.exit("the plain loop and genailab learned different merges: a bug in one of them")
        rows.append(("plain Python loop (same merges, 1 run)", plain, len(merges), None))

    print(
        f"{'trainer':42s} {'seconds':>8s} {'merges':>7s} {'tokens/byte':>12s} "
        f"{'vs goal':>8s} {'vs genailab':>12s}"
    )
    for name, secs, n_merges, per_byte in rows:
        density = f"{per_byte:12.4f}" if per_byte is not None else f"{'-':>12s}"
        print(
            f"{name:42s} {secs:8.3f} {n_merges:7d} {density} {secs / GOAL_S:7.2f}x "
            f"{secs / seconds:11.2f}x"
        )
    if anchor is not None:
        print(f"genailab / tokenizers time ratio: {seconds / anchor:.2f}")


if __name__ == "__main__":
    main()
