"""Both tokenizers behind one door: rebuild whichever one a checkpoint saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genailab.lm.bpe import BPETokenizer
from genailab.lm.tokenizer import CharTokenizer, TokenizerError


def tokenizer_from_dict(data: Mapping[str, Any]) -> CharTokenizer | BPETokenizer:
    """Rebuild whichever tokenizer ``to_dict`` saved, by its ``"kind"`` (``char`` or ``bpe``).

    Examples
    --------
    >>> tokenizer_from_dict(CharTokenizer.fit("purr").to_dict())
    CharTokenizer(vocab_size=3)
    """
    kinds = {"char": CharTokenizer, "bpe": BPETokenizer}
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in kinds:
        raise TokenizerError(
            f"unknown tokenizer kind {kind!r}; expected one of: {', '.join(kinds)}"
        )
    return kinds[kind].from_dict(data)
