"""The character tokenizer: exact round trips, a sorted vocabulary, saved state, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from genailab.errors import GenailabError
from genailab.lm import (
    BPETokenizer,
    CharTokenizer,
    TokenizerError,
    UnknownCharacterError,
    load_corpus,
    tokenizer_from_dict,
)


@pytest.fixture(scope="module")
def cats() -> str:
    return load_corpus("cats").text


@pytest.fixture(scope="module")
def tok(cats) -> CharTokenizer:
    return CharTokenizer.fit(cats)


def test_vocabulary_is_the_sorted_set_of_characters_like_nanogpt(cats, tok):
    chars = sorted(set(cats))
    assert tok.chars == "".join(chars)
    assert tok.vocab_size == len(chars) <= 80
    stoi = {ch: i for i, ch in enumerate(chars)}  # nanoGPT's shakespeare_char/prepare.py
    np.testing.assert_array_equal(tok.encode(cats), [stoi[c] for c in cats])


def test_round_trip_on_the_whole_corpus(cats, tok):
    ids = tok.encode(cats)
    assert ids.dtype == np.int64 and ids.shape == (len(cats),)
    assert ids.min() == 0 and ids.max() == tok.vocab_size - 1
    assert tok.decode(ids) == cats


def test_train_split_vocabulary_covers_validation(cats):
    corpus = load_corpus("cats")
    tok = CharTokenizer.fit(corpus.train_text)
    assert tok.decode(tok.encode(corpus.val_text)) == corpus.val_text


@given(st.text(min_size=1))
def test_round_trip_on_any_text(text):
    tok = CharTokenizer.fit(text)
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_size == len(set(text))


@given(st.lists(st.integers(0, 7), max_size=50))
def test_decode_then_encode_is_identity_on_ids(ids):
    tok = CharTokenizer("ab\nc é猫🐈")
    np.testing.assert_array_equal(tok.encode(tok.decode(ids)), ids)


def test_decode_accepts_lists_tensors_shapes():
    tok = CharTokenizer.fit("mew")
    assert tok.decode([1, 0, 2]) == "mew"
    assert tok.decode(np.array([[1, 0, 2]], dtype=np.int32)) == "mew"
    assert tok.decode([]) == ""
    assert tok.encode("").shape == (0,)


def test_unknown_characters_are_named_with_the_vocabulary_size(tok):
    with pytest.raises(UnknownCharacterError) as e:
        tok.encode("The cat ate the Xylophone and the Zebra \u00e9!")
    message = str(e.value)
    assert message.startswith(
        "text has 3 characters not in the vocabulary: 'X', 'Z', '\u00e9'; "
        f"the vocabulary has {tok.vocab_size} characters: "
    )
    assert "\n" not in message.replace(repr(tok.chars), "")
    assert isinstance(e.value, ValueError) and isinstance(e.value, GenailabError)


def test_many_unknown_characters_are_cut_short():
    tok = CharTokenizer("a")
    with pytest.raises(UnknownCharacterError, match=r"text has 25 characters .*'k' and 15 more;"):
        tok.encode("bcdefghijklmnopqrstuvwxyz")


def test_a_large_vocabulary_is_counted_not_printed():
    tok = CharTokenizer("".join(chr(0x4E00 + i) for i in range(500)))
    with pytest.raises(UnknownCharacterError) as e:
        tok.encode("cat")
    assert str(e.value).endswith("the vocabulary has 500 characters")


def test_decode_rejects_ids_outside_the_vocabulary():
    tok = CharTokenizer("abc")
    with pytest.raises(TokenizerError) as e:
        tok.decode([0, 3, -1, 7, 3])
    assert str(e.value) == "token ids -1, 3, 7 are outside the vocabulary of 3 tokens (ids 0 to 2)"
    with pytest.raises(TokenizerError, match="must be integers, not float64"):
        tok.decode([0.0, 1.0])
    assert tok.decode([]) == "" and tok.decode(np.array([[2], [0]])) == "ca"


@pytest.mark.parametrize("ids", [[0, 300, -2, 300], [[1, 2], [999, 3]], [1.5], [2**40]])
def test_both_tokenizers_refuse_bad_ids_with_the_same_line(ids):
    """One check (genailab.lm.tokenizers.check_token_ids) behind both decoders."""
    char = CharTokenizer("".join(chr(c) for c in range(32, 32 + 257)))  # 257 tokens, like bpe
    bpe = BPETokenizer([(97, 98)])
    assert char.vocab_size == bpe.vocab_size == 257
    messages = []
    for tok in (char, bpe):
        with pytest.raises(TokenizerError) as e:
            tok.decode(ids)
        messages.append(str(e.value))
    assert messages[0] == messages[1] and "\n" not in messages[0]
    if not isinstance(ids[0], float):
        with pytest.raises(TokenizerError) as e:
            bpe.token_bytes(np.ravel(ids)[np.ravel(ids) >= 257][0])
        assert "outside the vocabulary of 257 tokens (ids 0 to 256)" in str(e.value)


def test_to_dict_round_trips_through_json(tok, cats):
    data = json.loads(json.dumps(tok.to_dict()))
    again = CharTokenizer.from_dict(data)
    assert again == tok and hash(again) == hash(tok)
    assert tokenizer_from_dict(data) == tok
    assert again.decode(again.encode(cats[:500])) == cats[:500]


def test_from_dict_rejects_foreign_state():
    with pytest.raises(
        TokenizerError, match=r"not a character tokenizer: .* keys 'kind', 'merges'"
    ):
        CharTokenizer.from_dict({"kind": "bpe", "merges": []})
    with pytest.raises(
        TokenizerError, match="unknown tokenizer kind 'word'; expected one of: char, bpe"
    ):
        tokenizer_from_dict({"kind": "word"})
    assert tokenizer_from_dict(BPETokenizer().to_dict()) == BPETokenizer()


@pytest.mark.parametrize(
    ("chars", "message"),
    [("", "is not a non-empty string"), ("abca", "repeats characters 'a'"), (None, "None")],
)
def test_bad_vocabulary(chars, message):
    with pytest.raises(TokenizerError, match=message):
        CharTokenizer(chars)


def test_fit_on_empty_text_is_an_error():
    with pytest.raises(TokenizerError, match="empty text"):
        CharTokenizer.fit("")
