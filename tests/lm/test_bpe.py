"""Byte-level BPE: exact round trips on any text, compression, determinism.

Its training speed is measured against HuggingFace ``tokenizers`` in ``benchmarks/bpe.py``.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpe_reference import reference_train
from genailab.lm import BPETokenizer, TokenizerError, load_corpus, tokenizer_from_dict


@pytest.fixture(scope="module")
def cats() -> str:
    return load_corpus("cats").text


@pytest.fixture(scope="module")
def tok512(cats) -> BPETokenizer:
    return BPETokenizer.train(cats, 512)


def test_merges_match_a_plain_python_reference(cats):
    text = cats[:6000]
    assert BPETokenizer.train(text, 330).merges == reference_train(text, 330)


def test_runs_of_one_byte_merge_left_to_right():
    tok = BPETokenizer.train("aaaaaaab", 300)
    assert tok.merges == [(97, 97), (256, 256)]  # "aa", then "aaaa"
    np.testing.assert_array_equal(tok.encode("aaaaaaab"), [257, 256, 97, 98])
    np.testing.assert_array_equal(tok.encode("aaa"), [256, 97])


def test_round_trip_on_the_corpus(cats, tok512):
    ids = tok512.encode(cats)
    assert ids.dtype == np.int64
    assert tok512.decode(ids) == cats


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_on_any_unicode_text(tok512, text):
    assert tok512.decode(tok512.encode(text)) == text


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=300), st.integers(256, 400))
def test_training_on_any_text_round_trips(text, vocab_size):
    tok = BPETokenizer.train(text, vocab_size)
    assert tok.vocab_size <= vocab_size
    assert tok.decode(tok.encode(text)) == text
    assert tok.merges == reference_train(text, vocab_size)


def test_encoding_the_training_text_equals_the_training_sequence(cats, tok512):
    # The tokens of the corpus are exactly the merged tokens: each token's bytes, joined.
    ids = tok512.encode(cats)
    assert b"".join(tok512.token_bytes(int(i)) for i in ids) == cats.encode()
    assert len(set(ids.tolist())) > 256  # the learned tokens are really used


def test_tokens_per_byte_falls_as_the_vocabulary_grows(cats):
    n_bytes = len(cats.encode())
    ratios = [
        len(BPETokenizer.train(cats, v).encode(cats)) / n_bytes for v in (256, 300, 512, 1024)
    ]
    assert ratios[0] == 1.0
    assert all(a > b for a, b in itertools.pairwise(ratios))
    assert ratios[2] < 0.55  # 512 tokens: under 0.55 tokens per byte on verse


def test_compression_carries_over_to_the_validation_split():
    corpus = load_corpus("cats")
    tok = BPETokenizer.train(corpus.train_text, 512)
    assert len(tok.encode(corpus.val_text)) / len(corpus.val_text.encode()) < 0.65


def test_training_is_deterministic_and_prefix_consistent(cats, tok512):
    assert BPETokenizer.train(cats, 512) == tok512
    assert BPETokenizer.train(cats, 300).merges == tok512.merges[:44]


def test_first_merges_are_the_commonest_pairs_of_english_verse(tok512):
    learned = {tok512.token_bytes(t) for t in range(256, 266)}
    assert {b"e ", b"th"} <= learned


def test_training_stops_when_no_pair_repeats():
    tok = BPETokenizer.train("abcdef", 1000)
    assert tok.vocab_size == 256 and tok.merges == []


def test_to_dict_round_trips_through_json(cats, tok512):
    data = json.loads(json.dumps(tok512.to_dict()))
    assert BPETokenizer.from_dict(data) == tok512
    assert tokenizer_from_dict(data) == tok512
    np.testing.assert_array_equal(BPETokenizer.from_dict(data).encode(cats), tok512.encode(cats))


def test_decode_of_a_cut_character_is_replaced_not_an_error():
    tok = BPETokenizer()
    ids = tok.encode("chat \u00e9")
    assert tok.decode(ids[:-1]) == "chat \ufffd"


@pytest.mark.parametrize(
    ("vocab_size", "message"),
    [(100, "vocab_size 100 is below 256"), (300.0, "vocab_size 300.0 is not an integer")],
)
def test_bad_vocab_size(vocab_size, message):
    with pytest.raises(TokenizerError, match=message):
        BPETokenizer.train("the cat", vocab_size)


def test_bad_merges_and_ids():
    with pytest.raises(TokenizerError, match=r"merge 1 joins ids \(258, 97\), .* ids 0 to 256"):
        BPETokenizer([(97, 98), (258, 97)])
    with pytest.raises(TokenizerError, match="not a BPE tokenizer"):
        BPETokenizer.from_dict({"kind": "char", "chars": "ab"})
    with pytest.raises(TokenizerError, match=r"token ids 300 are outside .* 257 tokens"):
        BPETokenizer([(97, 98)]).decode([97, 300])
    with pytest.raises(TokenizerError, match="lone surrogate"):
        BPETokenizer().encode("cat \ud800")
