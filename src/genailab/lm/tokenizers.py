"""What the two tokenizers share: their error, the check of token ids, and one door back in.

:class:`~genailab.lm.tokenizer.CharTokenizer` and :class:`~genailab.lm.bpe.BPETokenizer` both
turn ids back into text, and both refuse an id outside their vocabulary with the same line,
from :func:`check_token_ids`; :func:`tokenizer_from_dict` rebuilds whichever one a checkpoint
saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from genailab.errors import GenailabError

if TYPE_CHECKING:  # the tokenizers import this module, so it imports them only when called
    from genailab.lm.bpe import BPETokenizer
    from genailab.lm.tokenizer import CharTokenizer

MAX_SHOWN = 10  # bad ids (or unknown characters) named in an error message


class TokenizerError(GenailabError, ValueError):
    """A vocabulary, a token id or a saved tokenizer that cannot be used."""


def check_token_ids(ids: Any, vocab_size: int) -> np.ndarray:
    """``ids`` (any integer array-like, any shape) flattened to a 1-D array, or an error.

    Raises
    ------
    TokenizerError
        For ids that are not integers, or that lie outside ``[0, vocab_size)``; the one-line
        message names the bad ids (at most :data:`MAX_SHOWN`) and the accepted range.

    Examples
    --------
    >>> check_token_ids([[2, 0], [1, 1]], 3)
    array([2, 0, 1, 1])
    >>> check_token_ids([5, -1, 2], 3)
    Traceback (most recent call last):
    ...
    genailab.lm.tokenizers.TokenizerError: token ids -1, 5 are outside the vocabulary of 3 tokens (ids 0 to 2)
    """  # noqa: E501
    flat = np.asarray(ids).reshape(-1)
    if flat.size == 0:
        return flat.astype(np.int64)
    if not np.issubdtype(flat.dtype, np.integer):
        raise TokenizerError(f"token ids must be integers, not {flat.dtype}")
    bad = (flat < 0) | (flat >= vocab_size)
    if bad.any():
        shown = ", ".join(str(int(i)) for i in np.unique(flat[bad])[:MAX_SHOWN])
        raise TokenizerError(
            f"token ids {shown} are outside the vocabulary of {vocab_size} tokens "
            f"(ids 0 to {vocab_size - 1})"
        )
    return flat


def tokenizer_from_dict(data: Mapping[str, Any]) -> CharTokenizer | BPETokenizer:
    """Rebuild whichever tokenizer ``to_dict`` saved, by its ``"kind"`` (``char`` or ``bpe``).

    Examples
    --------
    >>> from genailab.lm.tokenizer import CharTokenizer
    >>> tokenizer_from_dict(CharTokenizer.fit("purr").to_dict())
    CharTokenizer(vocab_size=3)
    """
    from genailab.lm.bpe import BPETokenizer
    from genailab.lm.tokenizer import CharTokenizer

    kinds = {"char": CharTokenizer, "bpe": BPETokenizer}
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in kinds:
        raise TokenizerError(
            f"unknown tokenizer kind {kind!r}; expected one of: {', '.join(kinds)}"
        )
    return kinds[kind].from_dict(data)
