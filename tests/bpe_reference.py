"""Byte-level BPE in plain Python, the reference that genailab's trainer must match merge for
merge (tests/lm/test_bpe.py) and the slow anchor it is timed against (benchmarks/bpe.py)."""

from __future__ import annotations

import itertools


def reference_train(text: str, vocab_size: int) -> list[tuple[int, int]]:
    """minbpe's BasicTokenizer in plain Python, with the same tie-break (smallest pair)."""
    ids = list(text.encode("utf-8"))
    merges = []
    for new in range(256, vocab_size):
        counts: dict[tuple[int, int], int] = {}
        for pair in itertools.pairwise(ids):
            counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < 2:
            break
        merges.append(best)
        out, i = [], 0
        while i < len(ids):
            if i < len(ids) - 1 and (ids[i], ids[i + 1]) == best:
                out.append(new)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
    return merges
