"""The character tokenizer: one token per distinct character of the training text.

The vocabulary is the sorted set of characters of a text (sorted by code point, as in
nanoGPT's ``shakespeare_char``), so the same text always gives the same ids. It is small
(the cat corpus has a few dozen symbols) and saved with a model through :meth:`to_dict`, so
a checkpoint alone can turn a prompt into ids and sampled ids back into text.

Encoding is one vectorised lookup: the text becomes its UTF-32 code points, and
``np.searchsorted`` finds each one in the sorted vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from genailab.lm.tokenizers import MAX_SHOWN, TokenizerError, check_token_ids

__all__ = ["CharTokenizer", "TokenizerError", "UnknownCharacterError"]


class UnknownCharacterError(TokenizerError):
    """Text with characters that the tokenizer's vocabulary lacks."""


class CharTokenizer:
    """Map each character of a fixed vocabulary to an integer id and back.

    Parameters
    ----------
    chars : str
        The vocabulary, one distinct character per id, in id order. Use :meth:`fit` to
        build it from a text.

    Examples
    --------
    >>> tok = CharTokenizer.fit("the cat sat")
    >>> tok.chars, tok.vocab_size
    (' acehst', 7)
    >>> ids = tok.encode("cat")
    >>> ids
    array([2, 1, 6])
    >>> tok.decode(ids)
    'cat'
    >>> CharTokenizer.from_dict(tok.to_dict()) == tok
    True
    """

    def __init__(self, chars: str) -> None:
        if not isinstance(chars, str) or not chars:
            raise TokenizerError(f"vocabulary {chars!r} is not a non-empty string of characters")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise TokenizerError(
                f"vocabulary repeats characters {', '.join(map(repr, repeated))}; "
                "each character must appear once"
            )
        self.chars = chars
        codes = _code_points(chars)
        self._order = np.argsort(codes, kind="stable")  # sorted position -> id
        self._sorted_codes = codes[self._order]
        self._codes = codes  # id -> code point

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        """Build the tokenizer whose vocabulary is the sorted set of characters of ``text``."""
        if not isinstance(text, str) or not text:
            raise TokenizerError("cannot build a vocabulary from an empty text; give some text")
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        """The number of distinct tokens."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Return the ids of the characters of ``text`` as an ``int64`` array.

        Raises
        ------
        UnknownCharacterError
            If ``text`` has characters outside the vocabulary; the message names them.

        Examples
        --------
        >>> CharTokenizer("abc").encode("cab!")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        genailab.lm.tokenizer.UnknownCharacterError: text has 1 character not in the ...
        """
        codes = _code_points(text)
        pos = np.searchsorted(self._sorted_codes, codes)
        pos = np.minimum(pos, len(self._sorted_codes) - 1)
        known = self._sorted_codes[pos] == codes
        if not known.all():
            raise UnknownCharacterError(self._unknown_message(text, codes[~known]))
        return self._order[pos].astype(np.int64)

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """Return the text of a sequence of ids (any integer array-like, any shape flattened).

        Examples
        --------
        >>> CharTokenizer("abc").decode([2, 0, 1])
        'cab'
        """
        ids = check_token_ids(ids, self.vocab_size)
        return self._codes[ids].astype("<u4").tobytes().decode("utf-32-le")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description that :meth:`from_dict` turns back into this tokenizer."""
        return {"kind": "char", "chars": self.chars}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CharTokenizer:
        """Rebuild a tokenizer from :meth:`to_dict`'s output."""
        if not isinstance(data, Mapping) or data.get("kind") != "char" or "chars" not in data:
            raise TokenizerError(
                f"not a character tokenizer: expected {{'kind': 'char', 'chars': ...}}, "
                f"got {_describe(data)}"
            )
        return cls(data["chars"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"

    def _unknown_message(self, text: str, unknown_codes: np.ndarray) -> str:
        unique = [chr(c) for c in np.unique(unknown_codes)]
        shown = ", ".join(repr(c) for c in unique[:MAX_SHOWN])
        more = f" and {len(unique) - MAX_SHOWN} more" if len(unique) > MAX_SHOWN else ""
        noun = "character" if len(unique) == 1 else "characters"
        vocab = f": {self.chars!r}" if self.vocab_size <= 100 else ""
        return (
            f"text has {len(unique)} {noun} not in the vocabulary: {shown}{more}; "
            f"the vocabulary has {self.vocab_size} characters{vocab}"
        )


def _code_points(text: str) -> np.ndarray:
    """The Unicode code points of ``text`` as an ``int64`` array."""
    if not isinstance(text, str):
        raise TokenizerError(f"expected text (str), got {type(text).__name__}")
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)


def _describe(data: object) -> str:
    if isinstance(data, Mapping):
        return "a mapping with keys " + ", ".join(repr(k) for k in data)
    return type(data).__name__
