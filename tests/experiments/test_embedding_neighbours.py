"""embedding-neighbours: the label agreement of fc7 and pixel neighbours against scikit-learn's
NearestNeighbors on the network's own embedding and on the raw pixels, the far pairs' pixel
ranks against a float64 count, the rows shown against the neighbours found, four captions,
and every scene drawn. Uses the shared quick shapes network (``pretrained``'s cache)."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from genailab.experiments.embedding_neighbours import CAPTIONS, CLAIMS, draw, frame_count
from genailab.lab import get, iterate_frames
from genailab.video import Canvas
from genailab.vision.pretrained import pretrained

NAME = "embedding-neighbours"


@pytest.fixture(scope="module")
def run():
    frames = list(iterate_frames(NAME, quick=True))
    cnn, train, test = pretrained("shapes", "quick")
    return frames, cnn, train, test


def knn(X, Q, k):
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X.astype(np.float64))
    return nn.kneighbors(Q.astype(np.float64))[1]  # (q, k)


def test_agreement_is_scikit_learns_over_every_test_image(run):
    frames, cnn, train, test = run
    s = frames[-1].scalars
    k = int(s["k"])
    emb = knn(cnn.embed(train.images), cnn.embed(test.images), k)
    pix = knn(
        train.images.reshape(len(train), -1) / 255.0, test.images.reshape(len(test), -1) / 255.0, k
    )
    same = lambda idx, y_tr, y_te: float((y_tr[idx] == y_te[:, None]).mean())  # noqa: E731
    assert s["queries"] == len(test) and s["train_images"] == len(train)
    assert s["embedding_agreement"] == pytest.approx(same(emb, train.labels, test.labels), abs=2e-3)
    assert s["pixel_agreement"] == pytest.approx(same(pix, train.labels, test.labels), abs=2e-3)
    colour = train.attributes["colour"], test.attributes["colour"]
    shape = train.attributes["shape"], test.attributes["shape"]
    assert s["pixel_colour_agreement"] == pytest.approx(same(pix, *colour), abs=2e-3)
    assert s["pixel_shape_agreement"] == pytest.approx(same(pix, *shape), abs=2e-3)
    # the point of the figure: pixels match the colour, fc7 the class
    assert s["embedding_agreement"] > s["pixel_agreement"] + 0.3
    assert s["pixel_colour_agreement"] > 0.9 > 0.5 > s["pixel_shape_agreement"]


def test_far_pairs_carry_their_float64_pixel_rank(run):
    frames, _, train, _ = run
    a = frames[-1].arrays
    X = train.images.reshape(len(train), -1).astype(np.float64) / 255.0
    T = a["far_tiles"]  # (F, 3, H, W, 3): query, its fc7 neighbour, its pixel-nearest image
    for f in range(T.shape[0]):
        q = T[f, 0].reshape(-1).astype(np.float64) / 255.0
        d = np.linalg.norm(X - q, axis=1)  # (n,)
        j = np.flatnonzero((train.images == T[f, 1]).all(axis=(1, 2, 3)))[0]
        assert int(a["far_ranks"][f]) == int((d < d[j]).sum())
        assert np.array_equal(train.images[np.argmin(d)], T[f, 2])  # the pixel-nearest
        assert a["far_ranks"][f] > len(train) / 2  # far indeed
    assert a["share_hist"].sum() == pytest.approx(1.0)  # every fc7 neighbour, in 20 bins


def test_rows_shown_are_the_neighbours_found(run):
    frames, cnn, train, _ = run
    a = frames[-1].arrays
    E_train = cnn.embed(train.images)
    for r in range(a["tiles_emb"].shape[0]):
        q = a["tiles_emb"][r, 0][None]
        idx = knn(E_train, cnn.embed(q), a["tiles_emb"].shape[1] - 1)[0]
        assert np.array_equal(train.images[idx], a["tiles_emb"][r, 1:])
    labels = frames[-1].text["row_labels"].split("|")
    assert len(set(labels)) == len(labels)  # different classes in each row


def test_four_scenes_their_captions_and_every_scene_draws(run):
    frames = run[0]
    cfg = get(NAME).config(quick=True)
    assert len(frames) == frame_count(cfg)
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert stretches == list(CAPTIONS) and all(len(c) <= 90 for c in stretches)
    assert sum(f.poster for f in frames) == 1
    for c in CLAIMS:
        assert c.evaluate(frames[-1].scalars)["met"], c.text
    canvas = Canvas(960, 540)
    firsts = [next(f for f in frames if f.caption == c) for c in CAPTIONS]
    for f in [*firsts, frames[-1]]:
        draw(f, canvas)
        px = canvas.render()
        assert px[: int(0.085 * 540)].min() == 255  # the title band is left empty
