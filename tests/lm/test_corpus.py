"""The corpus loader: the shipped cat corpus, any UTF-8 file, the 90/10 split, each error."""

from __future__ import annotations

import re

import pytest

from genailab.errors import GenailabError, UnknownNameError
from genailab.lm import (
    CORPORA,
    Corpus,
    CorpusError,
    CorpusNotFoundError,
    check_length,
    load_corpus,
)


@pytest.fixture(scope="module")
def cats() -> Corpus:
    return load_corpus("cats")


def test_cats_is_shipped_large_plain_and_made_of_titled_poems(cats):
    assert CORPORA == ("cats",)
    assert cats.name == "cats"
    assert len(cats.text.encode("utf-8")) >= 40_000
    assert cats.text.isascii()
    assert len(set(cats.text)) <= 80
    poems = cats.text.strip("\n").split("\n\n")
    assert len(poems) >= 60
    for poem in poems:
        lines = poem.split("\n")
        assert len(lines) >= 3, poem  # a title line, then at least a haiku's worth
        assert lines[0][0].isupper() and not lines[0].endswith((".", ",")), lines[0]
    titles = [p.split("\n")[0] for p in poems]
    assert len(set(titles)) == len(titles)
    assert "\n\n\n" not in cats.text and "\r" not in cats.text


def test_cats_has_varied_forms(cats):
    titles = " ".join(p.split("\n")[0] for p in cats.text.split("\n\n"))
    for form in ("Haiku", "Ballad", "Limerick", "Sonnet", "Ode", "Chant", "Free Verse"):
        assert form in titles, form


@pytest.mark.parametrize("fraction", [0.9, 0.5, 0.75, 0.999])
def test_split_is_first_fraction_then_rest(cats, fraction):
    train, val = cats.split(fraction)
    n = int(len(cats.text) * fraction)
    assert len(train) == n and len(val) == len(cats.text) - n
    assert train + val == cats.text


def test_default_split_is_nanogpt_90_10(cats):
    n = len(cats.text)
    assert len(cats.train_text) == int(n * 0.9)
    assert len(cats.val_text) == n - int(n * 0.9)
    assert cats.train_text + cats.val_text == cats.text


def test_split_counts_characters_not_bytes(tmp_path):
    path = tmp_path / "accents.txt"
    path.write_text("é" * 100, encoding="utf-8")  # 200 bytes, 100 characters
    train, val = load_corpus(path).split()
    assert (len(train), len(val)) == (90, 10)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_fraction_outside_0_1_is_an_error(cats, fraction):
    with pytest.raises(CorpusError, match=re.escape(f"split fraction {fraction!r}")):
        cats.split(fraction)


def test_any_utf8_file_loads_with_line_endings_normalised(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_bytes("\ufeffMiaou\r\nle chat\rdort.\n".encode())
    corpus = load_corpus(path)
    assert corpus.text == "Miaou\nle chat\ndort.\n"
    assert corpus.name == str(path)
    assert load_corpus(str(path)) == corpus


def test_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(CorpusNotFoundError, match=r"corpus file '.*nope\.txt' does not exist"):
        load_corpus(path)
    with pytest.raises(FileNotFoundError):  # also the built-in a Python user expects
        load_corpus(str(path))


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(CorpusNotFoundError, match="is not a file"):
        load_corpus(tmp_path)


def test_unknown_name_lists_the_shipped_names():
    with pytest.raises(
        UnknownNameError, match=r"unknown corpus 'catz'; shipped corpora: cats"
    ) as e:
        load_corpus("catz")
    assert "did you mean 'cats'?" in str(e.value)
    assert "\n" not in str(e.value)


def test_empty_and_whitespace_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(CorpusError, match=r"empty\.txt' is empty \(0 bytes\)"):
        load_corpus(empty)
    blank = tmp_path / "blank.txt"
    blank.write_bytes(b" \n\n\t\n")
    with pytest.raises(CorpusError, match=r"holds only whitespace \(5 bytes\)"):
        load_corpus(blank)


def test_binary_file_names_the_nul_byte(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CorpusError, match=r"is binary, not text: NUL byte at offset 8 of 16 bytes"):
        load_corpus(path)


def test_non_utf8_file_names_the_byte_and_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("le chat était là".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"not UTF-8 text: cannot decode byte 0xe9 at offset 8"):
        load_corpus(path)


def test_errors_are_genailab_errors_on_one_line(tmp_path):
    (tmp_path / "e.txt").write_bytes(b"")
    for arg in ("catz", tmp_path / "missing.txt", tmp_path / "e.txt"):
        with pytest.raises(GenailabError) as e:
            load_corpus(arg)
        assert "\n" not in str(e.value)


def test_check_length_accepts_the_cat_corpus_at_usual_contexts(cats):
    for block_size in (8, 64, 256):
        cats.check_length(block_size)


def test_check_length_says_how_many_characters_are_needed():
    # 4 windows of 64 + 1 characters in the validation split: the cut int(2591 * 0.9) = 2331
    # leaves 260 characters after it, while 2590 leaves 259.
    with pytest.raises(CorpusError) as e:
        check_length("x" * 1000, block_size=64)
    assert str(e.value) == (
        "text of 1,000 characters is too short for block_size 64: each split needs 4 context "
        "windows (260 characters), so at least 2,591 characters are needed; use a longer text "
        "or a smaller block_size"
    )


@pytest.mark.parametrize("block_size", [1, 7, 64, 100, 333])
def test_check_length_threshold_is_exact(block_size):
    needed = int(
        re.search(r"at least ([\d,]+) characters", _message(block_size)).group(1).replace(",", "")
    )
    check_length("x" * needed, block_size)
    with pytest.raises(CorpusError):
        check_length("x" * (needed - 1), block_size)
    train, val = Corpus("x", "x" * needed).split()
    assert min(len(train), len(val)) >= 4 * (block_size + 1)


def _message(block_size: int) -> str:
    with pytest.raises(CorpusError) as e:
        check_length("", block_size)
    return str(e.value)


@pytest.mark.parametrize("block_size", [0, -3, 2.5, True, "64"])
def test_check_length_rejects_a_bad_block_size(block_size):
    with pytest.raises(
        CorpusError, match=re.escape(f"block_size {block_size!r} is not a positive")
    ):
        check_length("x" * 10_000, block_size)
