"""Text corpora for the language models: a shipped name such as ``"cats"`` or any UTF-8 file.

A corpus is one string. The models learn from its first 90% and are validated on its last
10%, the split nanoGPT uses: contiguous, so that validation text is text the model has
never seen, not lines shuffled in from between training lines.

The shipped corpus ``cats`` is a collection of original poems about cats written for
genailab (couplets, haiku, ballads, free verse, limericks, sonnets, chants and odes), about
45 KB of plain ASCII: a vocabulary of a few dozen characters that a character-level model
learns in minutes on a CPU.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from genailab.errors import GenailabError, UnknownNameError, suggest

CORPORA: tuple[str, ...] = ("cats",)
"""The corpora shipped inside the package, each ``genailab/lm/data/<name>.txt``."""

TRAIN_FRACTION = 0.9
MIN_WINDOWS = 4  # context windows each split must hold for batches to be more than one crop


class CorpusError(GenailabError, ValueError):
    """A corpus that cannot be used: empty, binary, not UTF-8, or too short."""


class CorpusNotFoundError(GenailabError, FileNotFoundError):
    """A corpus path that does not exist or is not a file."""


@dataclass(frozen=True)
class Corpus:
    """A named text, split into a training head and a validation tail.

    Parameters
    ----------
    name : str
        The shipped name (``"cats"``) or the path the text was read from.
    text : str
        The whole text, with line endings normalised to ``"\\n"``.

    Examples
    --------
    >>> corpus = Corpus("tiny", "abcdefghij")
    >>> corpus.train_text, corpus.val_text
    ('abcdefghi', 'j')
    >>> corpus.split(0.5)
    ('abcde', 'fghij')
    """

    name: str
    text: str

    def split(self, fraction: float = TRAIN_FRACTION) -> tuple[str, str]:
        """Return ``(train, val)``: the first ``fraction`` of the characters, then the rest.

        The cut is at character ``int(len(text) * fraction)``, as nanoGPT cuts its data.
        """
        if not 0.0 < fraction < 1.0:
            raise CorpusError(f"split fraction {fraction!r} is not between 0 and 1 (exclusive)")
        n = int(len(self.text) * fraction)
        return self.text[:n], self.text[n:]

    @property
    def train_text(self) -> str:
        """The first 90% of the characters."""
        return self.split()[0]

    @property
    def val_text(self) -> str:
        """The last 10% of the characters."""
        return self.split()[1]

    def check_length(self, block_size: int, windows: int = MIN_WINDOWS) -> None:
        """Raise :class:`CorpusError` unless each split holds ``windows`` context windows.

        See :func:`check_length`.
        """
        check_length(self.text, block_size, windows=windows, label=f"corpus {self.name!r}")


def load_corpus(name_or_path: str | os.PathLike[str]) -> Corpus:
    """Load a shipped corpus by name, or any UTF-8 text file by path.

    Parameters
    ----------
    name_or_path : str or path-like
        One of :data:`CORPORA` (``"cats"``), or the path of a UTF-8 text file.

    Returns
    -------
    Corpus
        The text with ``\\r\\n`` and ``\\r`` line endings turned into ``\\n`` and a leading
        byte-order mark removed.

    Raises
    ------
    UnknownNameError
        For a bare name that is neither shipped nor an existing file.
    CorpusNotFoundError
        For a path that does not exist or is a directory.
    CorpusError
        For an empty, whitespace-only, binary or non-UTF-8 file.

    Examples
    --------
    >>> cats = load_corpus("cats")
    >>> len(cats.text) > 40_000
    True
    >>> len(cats.train_text) == int(len(cats.text) * 0.9)
    True
    """
    if isinstance(name_or_path, str) and name_or_path in CORPORA:
        data = resources.files("genailab.lm").joinpath(f"data/{name_or_path}.txt").read_bytes()
        return Corpus(name_or_path, decode_text(data, source=f"corpus {name_or_path!r}"))
    path = Path(name_or_path)
    if not path.exists():
        shipped = ", ".join(CORPORA)
        looks_like_a_name = isinstance(name_or_path, str) and not (
            path.suffix or os.sep in name_or_path or "/" in name_or_path
        )
        if looks_like_a_name:
            raise UnknownNameError(
                f"unknown corpus {name_or_path!r}; shipped corpora: {shipped}, "
                f"or give the path of a UTF-8 text file{suggest(str(name_or_path), CORPORA)}"
            )
        raise CorpusNotFoundError(
            f"corpus file '{path}' does not exist; give the path of a UTF-8 text file "
            f"or a shipped corpus name ({shipped})"
        )
    if not path.is_file():
        raise CorpusNotFoundError(f"corpus path '{path}' is not a file; give a UTF-8 text file")
    return Corpus(str(path), decode_text(path.read_bytes(), source=f"corpus file '{path}'"))


def decode_text(data: bytes, source: str = "text") -> str:
    """Decode ``data`` as UTF-8 text, or raise a one-line :class:`CorpusError` saying why not.

    Examples
    --------
    >>> decode_text(b"cat\\r\\nnap\\n")
    'cat\\nnap\\n'
    >>> decode_text(b"\\x89PNG\\x00\\x00", source="x.png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.lm.corpus.CorpusError: x.png is binary, not text: NUL byte at offset 4 of 6 bytes; ...
    """
    if not data:
        raise CorpusError(f"{source} is empty (0 bytes); a corpus needs UTF-8 text")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CorpusError(
            f"{source} is binary, not text: NUL byte at offset {nul} of {len(data):,} bytes; "
            "a corpus must be a UTF-8 text file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorpusError(
            f"{source} is not UTF-8 text: cannot decode byte 0x{data[err.start]:02x} at offset "
            f"{err.start} of {len(data):,} bytes; convert it to UTF-8 first"
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise CorpusError(f"{source} holds only whitespace ({len(data):,} bytes); it needs text")
    return text


def check_length(
    text: str,
    block_size: int,
    windows: int = MIN_WINDOWS,
    fraction: float = TRAIN_FRACTION,
    label: str = "text",
) -> None:
    """Raise :class:`CorpusError` unless both splits hold ``windows`` context windows.

    A context window of ``block_size`` characters needs ``block_size + 1`` characters (the
    inputs and their next-character targets). The validation split is the smaller one, so
    the text needs about ``windows * (block_size + 1) / (1 - fraction)`` characters (a few
    fewer, as the cut at ``int(len(text) * fraction)`` rounds down); the message says exactly.

    Examples
    --------
    >>> check_length("x" * 1000, block_size=8)
    >>> check_length("x" * 1000, block_size=64)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genailab.lm.corpus.CorpusError: text of 1,000 characters is too short for block_size 64: ...
    """
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise CorpusError(f"block_size {block_size!r} is not a positive integer")
    if windows < 1:
        raise CorpusError(f"windows {windows!r} is not a positive integer")
    per_split = windows * (block_size + 1)
    smaller = min(fraction, 1.0 - fraction)
    # NOTE: the smaller split holds between smaller * n and smaller * n + 1 characters, and
    # each split grows by 0 or 1 per added character: step up from the lowest possible n.
    needed = max(1, math.floor((per_split - 1) / smaller) - 2)
    while min(int(needed * fraction), needed - int(needed * fraction)) < per_split:
        needed += 1
    train_n = int(len(text) * fraction)
    if min(train_n, len(text) - train_n) < per_split:
        raise CorpusError(
            f"{label} of {len(text):,} characters is too short for block_size {block_size}: "
            f"each split needs {windows} context windows ({per_split:,} characters), so at least "
            f"{needed:,} characters are needed; use a longer text or a smaller block_size"
        )
