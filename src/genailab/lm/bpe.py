"""Byte-level byte-pair encoding (BPE): a vocabulary of bytes and merged byte pairs.

Training starts from the 256 byte values of the UTF-8 text and repeats one step: count
every adjacent pair of tokens and replace the most frequent pair by a new token, until the
vocabulary has ``vocab_size`` tokens (Sennrich et al. 2016, "Neural Machine Translation of
Rare Words with Subword Units"; GPT-2 made it byte-level so no text is ever out of
vocabulary). Encoding replays the merges in the order they were learned; decoding joins
each token's bytes. Any UTF-8 text survives ``decode(encode(text))`` exactly.

Both steps are vectorised with numpy: a pair ``(a, b)`` is the single integer
``a * V + b``, so counting pairs is one ``np.unique`` and a merge is one boolean mask over
the whole sequence. Unlike GPT-2, the text is not pre-split into words, so a merge may
span a space or a newline (``"e "``, ``".\\n"``): on a small corpus of verse these are among
the most useful merges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genailab.lm.tokenizers import TokenizerError, check_token_ids

N_BYTES = 256


class BPETokenizer:
    """A byte-level BPE tokenizer defined by its ordered list of merges.

    Parameters
    ----------
    merges : sequence of (int, int)
        Merge ``i`` joins the pair of tokens ``(a, b)`` into the new token ``256 + i``;
        both ``a`` and ``b`` must be below ``256 + i``. Use :meth:`train` to learn them.

    Examples
    --------
    >>> tok = BPETokenizer.train("the cat sat on the mat, the cat sat on the hat", 260)
    >>> tok.vocab_size
    260
    >>> [tok.token_bytes(t) for t in range(256, 260)]
    [b'at', b'e ', b'he ', b'the ']
    >>> ids = tok.encode("the cat")
    >>> ids
    array([259,  99, 256])
    >>> tok.decode(ids)
    'the cat'
    """

    def __init__(self, merges: Sequence[Sequence[int]] = ()) -> None:
        self.merges: list[tuple[int, int]] = []
        self._bytes: list[bytes] = [bytes([b]) for b in range(N_BYTES)]
        for i, pair in enumerate(merges):
            if len(pair) != 2:
                raise TokenizerError(f"merge {i} is {pair!r}, not a pair of token ids")
            a, b = int(pair[0]), int(pair[1])
            new = N_BYTES + i
            if not (0 <= a < new and 0 <= b < new):
                raise TokenizerError(
                    f"merge {i} joins ids ({a}, {b}), but merge {i} may only join ids 0 to "
                    f"{new - 1} (the tokens that exist before it)"
                )
            self.merges.append((a, b))
            self._bytes.append(self._bytes[a] + self._bytes[b])

    @classmethod
    def train(cls, text: str, vocab_size: int) -> BPETokenizer:
        """Learn up to ``vocab_size - 256`` merges from ``text``.

        Ties between equally frequent pairs go to the smallest ``(a, b)``, so training is
        deterministic. Training stops early when no pair occurs twice (a merge would then
        memorise the text rather than compress it); :attr:`vocab_size` tells the final size.
        """
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int | np.integer):
            raise TokenizerError(f"vocab_size {vocab_size!r} is not an integer >= {N_BYTES}")
        if vocab_size < N_BYTES:
            raise TokenizerError(
                f"vocab_size {vocab_size} is below {N_BYTES}; a byte-level BPE vocabulary "
                f"starts with the {N_BYTES} byte values"
            )
        ids = _text_bytes(text)
        merges: list[tuple[int, int]] = []
        for new in range(N_BYTES, int(vocab_size)):
            if len(ids) < 2:
                break
            # NOTE: a pair (a, b) is the one integer a * V + b, so np.unique counts all pairs.
            pairs = ids[:-1] * vocab_size + ids[1:]
            codes, counts = np.unique(pairs, return_counts=True)
            best = int(np.argmax(counts))  # first maximum: the smallest code wins a tie
            if counts[best] < 2:
                break
            a, b = divmod(int(codes[best]), int(vocab_size))
            merges.append((a, b))
            ids = _merge(ids, a, b, new)
        return cls(merges)

    @property
    def vocab_size(self) -> int:
        """The number of tokens: 256 bytes plus one per merge."""
        return N_BYTES + len(self.merges)

    def token_bytes(self, token: int) -> bytes:
        """The bytes that token id ``token`` stands for."""
        (token,) = check_token_ids([token], self.vocab_size)
        return self._bytes[int(token)]

    def encode(self, text: str) -> np.ndarray:
        """Return the token ids of ``text`` as an ``int64`` array.

        The merges are replayed in training order. Replaying them one at a time over the
        whole sequence equals merging "the lowest-ranked pair present" again and again:
        merge ``i`` only creates token ``256 + i``, which no earlier merge can use.
        """
        ids = _text_bytes(text)
        for i, (a, b) in enumerate(self.merges):
            if len(ids) < 2:
                break
            ids = _merge(ids, a, b, N_BYTES + i)
        return ids

    def decode(self, ids: np.ndarray | Sequence[int]) -> str:
        """Return the text of ``ids``; bytes that are not valid UTF-8 become ``U+FFFD``.

        Only a sampled sequence can cut a multi-byte character in half; the output of
        :meth:`encode` always decodes to the exact text.
        """
        ids = check_token_ids(ids, self.vocab_size)
        return b"".join(self._bytes[i] for i in ids.tolist()).decode("utf-8", errors="replace")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description that :meth:`from_dict` turns back into this tokenizer."""
        return {"kind": "bpe", "merges": [[a, b] for a, b in self.merges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BPETokenizer:
        """Rebuild a tokenizer from :meth:`to_dict`'s output."""
        if not isinstance(data, Mapping) or data.get("kind") != "bpe" or "merges" not in data:
            keys = ", ".join(map(repr, data)) if isinstance(data, Mapping) else type(data).__name__
            raise TokenizerError(
                f"not a BPE tokenizer: expected {{'kind': 'bpe', 'merges': [...]}}, got {keys}"
            )
        return cls(data["merges"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BPETokenizer) and other.merges == self.merges

    def __hash__(self) -> int:
        return hash(tuple(self.merges))

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"


def _text_bytes(text: str) -> np.ndarray:
    if not isinstance(text, str):
        raise TokenizerError(f"expected text (str), got {type(text).__name__}")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise TokenizerError(
            f"text is not valid Unicode: lone surrogate {text[err.start]!r} at index {err.start}"
        ) from None
    return np.frombuffer(data, dtype=np.uint8).astype(np.int64)


def _merge(ids: np.ndarray, a: int, b: int, new: int) -> np.ndarray:
    """Replace every non-overlapping ``(a, b)`` in ``ids``, left to right, by ``new``."""
    hits = np.flatnonzero((ids[:-1] == a) & (ids[1:] == b))
    if hits.size == 0:
        return ids
    if a == b:
        # NOTE: in a run "a a a" the pairs overlap; left to right, only every other one merges.
        # Within each run of consecutive hits, keep those at an even offset from its start.
        k = np.arange(hits.size)
        starts = np.r_[True, np.diff(hits) != 1]
        run_start = np.maximum.accumulate(np.where(starts, k, 0))
        hits = hits[(k - run_start) % 2 == 0]
    out = ids.copy()
    out[hits] = new
    return np.delete(out, hits + 1)
