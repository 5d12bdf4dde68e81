"""One conformance test over every nearest-neighbour index, as scikit-learn runs one set of
checks over all its estimators.

The indexes are found by walking the public API of :mod:`genailab.embed`, so a new index is
covered as soon as it is exported; it fails ``test_every_index_is_covered`` until it is given
small settings and exact settings below. Each index's own tests (``tests/embed``) keep what
only that index does: recall against its theory, its parameters, its internals.
"""

from __future__ import annotations

import inspect
import re
import zipfile

import numpy as np
import pytest

import genailab.embed as embed
from genailab.embed.neighbor_index import (
    CONCRETE_INDEXES,
    METRICS,
    AbstractIndexError,
    IndexFileError,
    NeighborIndex,
    load_index,
)
from genailab.errors import GenailabError

N, D = 300, 8  # indexed rows and their dimension

#: settings that keep each index small and fast here (approximate where the index is)
SMALL = {
    "ExactIndex": {},
    "GraphIndex": {"M": 8, "ef": 16},
    "IVFIndex": {"nlist": 8, "nprobe": 2},
    "LSHIndex": {"n_bits": 6, "n_tables": 4},
    "ProbabilisticANN": {"probes": 300, "batch": 64},
}
#: settings at which each index is exact, and why
EXACT = {
    "ExactIndex": {},
    "GraphIndex": {"M": 8, "ef": N},  # a beam as wide as the data reaches every node
    "IVFIndex": {"nlist": 8, "nprobe": 8},  # every list is scanned
    "LSHIndex": {"n_bits": 1, "n_tables": 1, "probes": 1},  # a 1-bit key and its flip: all rows
    "ProbabilisticANN": {"probes": 40 * N},  # a row missed with probability (1 - 1/N)^p ~ e^-40
}

#: indexes whose answer to a query depends on the other queries of its batch, and why
BATCH_DEPENDENT = {
    "ProbabilisticANN": "the draws of a search are one (queries, batch) block, and 'worst-half' "
    "picks the queries to rework by the median over the batch",
}


def _public_indexes() -> list[type[NeighborIndex]]:
    """Every concrete NeighborIndex that genailab.embed exports."""
    found = []
    for name in embed.__all__:
        obj = getattr(embed, name)
        if isinstance(obj, type) and issubclass(obj, NeighborIndex) and not inspect.isabstract(obj):
            found.append(obj)
    return found


INDEXES = _public_indexes()
SEEDED = [cls for cls in INDEXES if "random_state" in cls.PARAMS]


def _make(cls: type[NeighborIndex], settings: dict | None = None, **params) -> NeighborIndex:
    params = {**(SMALL if settings is None else settings)[cls.__name__], **params}
    if "random_state" in cls.PARAMS:
        params.setdefault("random_state", 0)
    return cls(**params)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D)).astype(np.float32)
    Q = rng.normal(size=(20, D)).astype(np.float32)
    return X, Q


def _brute_force(X: np.ndarray, Q: np.ndarray, k: int, metric: str):
    """The reference: every distance in float64 numpy, then a full sort."""
    X, Q = X.astype(np.float64), Q.astype(np.float64)
    if metric == "cosine":
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        dist = 1.0 - Qn @ Xn.T  # (q, n)
    else:
        dist = np.sqrt(((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1))  # (q, n)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(dist, order, axis=1), order


def _true_distances(X, Q, idx, metric):
    """The distance from each query to each row it was given, from the definition."""
    X, Q = X.astype(np.float64), Q.astype(np.float64)
    if metric == "cosine":
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        return 1.0 - np.einsum("qd,qkd->qk", Qn, Xn[idx])
    return np.linalg.norm(Q[:, None, :] - X[idx], axis=2)


def _ids(classes):
    return [cls.__name__ for cls in classes]


# ------------------------------------------------------------------------------ coverage
def test_every_index_is_covered():
    names = {cls.__name__ for cls in INDEXES}
    assert names == set(CONCRETE_INDEXES), "the list that NeighborIndex's errors name"
    assert names == set(SMALL) == set(EXACT), "give a new index its settings here"


def test_the_base_class_is_abstract_and_says_what_to_use():
    with pytest.raises(TypeError, match="abstract base class; use one of") as err:
        NeighborIndex()
    assert all(name in str(err.value) for name in CONCRETE_INDEXES)

    class Partial(NeighborIndex):  # forgets three of the four hooks
        def _build(self, X):
            pass

    with pytest.raises(TypeError, match="Partial does not write _restore, _search, _state"):
        Partial()

    class Lazy(embed.ExactIndex):  # hands its search to the abstract base
        def _search(self, Q, k):
            return NeighborIndex._search(self, Q, k)

    index = Lazy().fit(np.eye(3))
    with pytest.raises(AbstractIndexError, match=r"NeighborIndex\._search is abstract") as err:
        index.kneighbors(np.eye(3), k=1)
    assert isinstance(err.value, NotImplementedError) and "ExactIndex, GraphIndex" in str(err.value)


# ------------------------------------------------------------------------------ fit / query
@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_fit_returns_self(cls, data):
    X, _ = data
    index = _make(cls)
    assert index.fit(X) is index
    assert (index.n_indexed_, index.dim_) == (N, D)
    assert index.fit(X.tolist()).n_indexed_ == N  # any array_like


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_query_shapes_dtypes_and_order(cls, metric, data):
    X, Q = data
    index = _make(cls, metric=metric).fit(X)
    dist, idx = index.kneighbors(Q, k=7)
    assert dist.shape == idx.shape == (len(Q), 7)
    assert dist.dtype == np.float32 and idx.dtype == np.int64
    assert np.all(np.diff(dist, axis=1) >= 0), "nearest first"
    assert np.all((idx >= 0) & (idx < N))
    assert all(len(set(row)) == 7 for row in idx.tolist()), "k distinct rows"
    # whatever rows an index finds, it reports their true distances
    np.testing.assert_allclose(dist, _true_distances(X, Q, idx, metric), rtol=1e-5, atol=1e-6)
    # one 1-D query gives 1-D answers, the same as its row of the batch
    d1, i1 = index.kneighbors(Q[3], k=7)
    assert d1.shape == i1.shape == (7,) and d1.dtype == np.float32 and i1.dtype == np.int64
    if cls.__name__ not in BATCH_DEPENDENT:
        np.testing.assert_array_equal(i1, idx[3])
        np.testing.assert_allclose(d1, dist[3], rtol=1e-6)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_exact_at_its_exact_settings(cls, metric, data):
    X, Q = data
    ref_d, ref_i = _brute_force(X, Q, 10, metric)
    dist, idx = _make(cls, EXACT, metric=metric).fit(X).kneighbors(Q, k=10)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-5, atol=1e-6)
    # k = n: every row, once, in order of distance
    dist, idx = _make(cls, EXACT, metric=metric).fit(X).kneighbors(Q[:2], k=N)
    assert [sorted(row) for row in idx.tolist()] == [list(range(N))] * 2


@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_same_seed_same_answers(cls, data):
    X, Q = data
    a = _make(cls).fit(X).kneighbors(Q, k=5)
    b = _make(cls).fit(X).kneighbors(Q, k=5)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("cls", SEEDED, ids=_ids(SEEDED))
def test_the_seed_is_what_varies(cls, data):
    # another seed builds another index (its saved arrays), or probes other rows (its answers)
    X, Q = data
    a, b = _make(cls, random_state=0).fit(X), _make(cls, random_state=1).fit(X)
    state_a, state_b = a._state(), b._state()
    same_state = all(np.array_equal(state_a[key], state_b[key]) for key in state_a)
    same_answers = np.array_equal(a.kneighbors(Q, k=5)[1], b.kneighbors(Q, k=5)[1])
    assert not (same_state and same_answers)


# ------------------------------------------------------------------------------ save / load
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_save_load_gives_identical_answers(cls, metric, data, tmp_path):
    X, Q = data
    index = _make(cls, metric=metric).fit(X)
    path = index.save(tmp_path / "index.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["index.npz"], "no temporary file left"
    again = load_index(path)
    assert type(again) is cls
    assert {p: getattr(again, p) for p in cls.PARAMS} == {p: getattr(index, p) for p in cls.PARAMS}
    assert (again.n_indexed_, again.dim_) == (N, D)
    for query in (Q, Q[0]):
        for a, b in zip(index.kneighbors(query, 5), again.kneighbors(query, 5), strict=True):
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------ errors
def _one_line_error(err: pytest.ExceptionInfo, pattern: str) -> None:
    assert isinstance(err.value, GenailabError) and isinstance(err.value, ValueError)
    message = str(err.value)
    assert "\n" not in message and len(message) < 300, message
    assert re.search(pattern, message), message


QUERY_ERRORS = {
    "wrong dimension": (lambda i: i.kneighbors(np.ones((2, D + 1)), 3), r"dimension 9.*8-d"),
    "k beyond the index": (lambda i: i.kneighbors(np.ones((2, D)), N + 1), r"k=301 .* 300 "),
    "k of zero": (lambda i: i.kneighbors(np.ones((2, D)), 0), r"k must be an int >= 1; got 0"),
    "k not an int": (lambda i: i.kneighbors(np.ones((2, D)), 2.5), r"k must be an int.*2\.5"),
    "NaN query": (
        lambda i: i.kneighbors(np.r_[np.ones((1, D)), np.full((1, D), np.nan)], 3),
        r"Q must be finite; 1 rows hold NaN or inf \(first: row 1\)",
    ),
    "inf query": (lambda i: i.kneighbors(np.full(D, np.inf), 3), r"Q must be finite"),
    "3-D query": (lambda i: i.kneighbors(np.ones((2, 2, D)), 3), r"2-D.*\(2, 2, 8\)"),
    "text query": (lambda i: i.kneighbors([["a"] * D], 3), r"Q must be an array of numbers"),
}


@pytest.mark.parametrize("case", QUERY_ERRORS, ids=list(QUERY_ERRORS))
@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_bad_queries(cls, case, data):
    call, pattern = QUERY_ERRORS[case]
    index = _make(cls).fit(data[0])
    with pytest.raises(ValueError) as err:
        call(index)
    _one_line_error(err, pattern)


FIT_ERRORS = {
    "NaN data": ({}, np.r_[np.ones((4, D)), [[np.nan] * D]], r"X must be finite; 1 rows .* row 4"),
    "empty fit": ({}, np.empty((0, D)), r"at least one row and one column; got shape \(0, 8\)"),
    "no columns": ({}, np.empty((5, 0)), r"got shape \(5, 0\)"),
    "1-D data": ({}, np.ones(D), r"X must be 2-D \(n, d\); got shape \(8,\)"),
    "zero row under cosine": (
        {"metric": "cosine"},
        np.r_[np.ones((4, D)), np.zeros((1, D))],
        r"X has 1 zero rows \(first: row 4\)",
    ),
    "unknown metric": ({"metric": "manhattan"}, np.ones((4, D)), r"metric.*'manhattan'"),
}


@pytest.mark.parametrize("case", FIT_ERRORS, ids=list(FIT_ERRORS))
@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_bad_fits(cls, case):
    params, X, pattern = FIT_ERRORS[case]
    with pytest.raises(ValueError) as err:
        _make(cls, **params).fit(X)
    _one_line_error(err, pattern)


@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_zero_query_under_cosine(cls, data):
    index = _make(cls, metric="cosine").fit(data[0])
    with pytest.raises(ValueError) as err:
        index.kneighbors(np.zeros(D), 3)
    _one_line_error(err, r"Q has 1 zero rows")


@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_not_fitted(cls, tmp_path):
    index = _make(cls)
    for call in (lambda: index.kneighbors(np.ones(D)), lambda: index.save(tmp_path / "i.npz")):
        with pytest.raises(ValueError) as err:
            call()
        _one_line_error(err, rf"this {cls.__name__} is not fitted yet")
        assert isinstance(err.value, AttributeError)  # as scikit-learn's NotFittedError


def _truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _bit_flipped(raw: bytes) -> bytes:
    at = len(raw) // 2  # inside an array's data, whose CRC then fails
    return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]


@pytest.mark.parametrize(
    ("damage", "pattern"),
    [
        (_truncated, r"not an \.npz archive"),
        (_bit_flipped, r"Bad CRC-32 for file '.+\.npy'"),
        (lambda raw: b"", r"not an \.npz archive"),
    ],
    ids=["truncated", "bit flipped", "empty"],
)
@pytest.mark.parametrize("cls", INDEXES, ids=_ids(INDEXES))
def test_corrupt_files(cls, damage, pattern, data, tmp_path):
    path = _make(cls).fit(data[0]).save(tmp_path / "index.npz")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(IndexFileError) as err:
        load_index(path)
    _one_line_error(err, rf"index\.npz: not a saved genailab index \({pattern}\)$")


def test_files_that_are_no_index(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    header = '{"format": "genailab-neighbor-index", "class": "NeighborIndex"}'
    with zipfile.ZipFile(tmp_path / "abstract.npz", "w") as z:  # names the abstract class
        z.writestr("header.npy", _npy(header))
    cases = {
        "missing.npz": r"missing\.npz: no such file",
        "other.npz": r"not a saved genailab index",
        "abstract.npz": r"unknown index class 'NeighborIndex'",
    }
    for name, pattern in cases.items():
        with pytest.raises(IndexFileError) as err:
            load_index(tmp_path / name)
        _one_line_error(err, pattern)


def _npy(text: str) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array(text))
    return buffer.getvalue()
