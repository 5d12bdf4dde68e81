"""semantic-directions: the walk's readings against an independent computation (torch's own fc8
on the clipped walked points, colour probabilities summed by class name, scikit-learn's
NearestNeighbors for the neighbours), the consistency against per-shape means taken by hand,
the strip's tiles against the neighbours, three captions, bad settings refused. Uses the
shared quick shapes network (``pretrained``'s cache)."""

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from genailab.experiments.semantic_directions import CAPTIONS, CLAIMS, draw, frame_count
from genailab.lab import get, iterate_frames
from genailab.video import Canvas
from genailab.vision.pretrained import pretrained

NAME = "semantic-directions"


@pytest.fixture(scope="module")
def run():
    frames = list(iterate_frames(NAME, quick=True))
    cnn, train, test = pretrained("shapes", "quick")
    return frames, cnn, train, test


def test_the_walk_read_by_torchs_fc8_and_by_scikit_learns_neighbours(run):
    frames, cnn, train, test = run
    s, a = frames[-1].scalars, frames[-1].arrays
    colours = train.attribute_classes["colour"]
    red, blue = colours.index("red"), colours.index("blue")
    E = cnn.embed(train.images).astype(np.float64)  # (n, D)
    col, shp = train.attributes["colour"], train.attributes["shape"]
    d = E[col == red].mean(0) - E[col == blue].mean(0)  # (D,)
    sel = test.attributes["colour"] == blue
    E0 = cnn.embed(test.images[sel]).astype(np.float64)
    t = s["arrival_t"]
    walked = np.maximum(E0 + t * d, 0)  # (q, D)
    with torch.no_grad():
        logits = cnn.model.linear("fc8")(torch.from_numpy(walked).float()).double()
        start = cnn.model.linear("fc8")(torch.from_numpy(E0).float())
    P = torch.softmax(logits, dim=1).numpy()  # (q, classes)
    is_red = np.array([name.startswith("red ") for name in cnn.classes])
    flip = P[:, is_red].sum(1) > np.max(
        [P[:, [n.startswith(c + " ") for n in cnn.classes]].sum(1) for c in colours if c != "red"],
        axis=0,
    )
    assert s["colour_flip"] == pytest.approx(flip.mean(), abs=0.02)
    shape_of = np.array([n.split(" ")[1] for n in cnn.classes])
    shapes = train.attribute_classes["shape"]
    by_shape = lambda p: np.stack([p[:, shape_of == n].sum(1) for n in shapes], 1)  # noqa: E731
    p0 = by_shape(torch.softmax(start, 1).double().numpy()).argmax(1)
    assert s["shape_kept"] == pytest.approx((by_shape(P).argmax(1) == p0).mean(), abs=0.02)
    # t = 0 reads what the classifier says of the images themselves
    np.testing.assert_allclose(
        torch.softmax(start, 1).numpy(), cnn.predict_proba(test.images[sel]), atol=1e-5
    )
    idx = NearestNeighbors(n_neighbors=5, algorithm="brute").fit(E).kneighbors(walked)[1]
    assert s["neighbour_colour"] == pytest.approx((col[idx] == red).mean(), abs=0.02)
    own = test.attributes["shape"][sel]
    assert s["neighbour_shape"] == pytest.approx((shp[idx] == own[:, None]).mean(), abs=0.02)
    assert a["ts"][int(a["state"][3])] == t


def test_consistency_is_the_mean_cosine_of_per_shape_differences(run):
    frames, cnn, train, _ = run
    s = frames[-1].scalars
    E = cnn.embed(train.images).astype(np.float64)
    col, shp = train.attributes["colour"], train.attributes["shape"]

    def per_shape(to, fro):
        D = np.stack(
            [
                E[(col == to) & (shp == g)].mean(0) - E[(col == fro) & (shp == g)].mean(0)
                for g in range(5)
            ]
        )
        return D / np.linalg.norm(D, axis=1, keepdims=True)

    colours = train.attribute_classes["colour"]
    U = per_shape(colours.index("red"), colours.index("blue"))
    C = U @ U.T
    assert s["consistency"] == pytest.approx(C[~np.eye(5, dtype=bool)].mean(), abs=1e-6)
    np.testing.assert_allclose(frames[-1].arrays["cosines"], C, atol=1e-6)
    V = per_shape(colours.index("green"), colours.index("yellow"))
    assert s["cross_consistency"] == pytest.approx((U @ V.T).mean(), abs=1e-6)


def test_captions_claims_and_every_scene_draws(run):
    frames = run[0]
    assert len(frames) == frame_count(get(NAME).config(quick=True))
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert stretches == list(CAPTIONS) and all(len(c) <= 90 for c in stretches)
    assert sum(f.poster for f in frames) == 1
    for c in CLAIMS:
        assert c.evaluate(frames[-1].scalars)["met"], c.text
    canvas = Canvas(960, 540)
    for f in [next(f for f in frames if f.caption == c) for c in CAPTIONS] + [frames[-1]]:
        draw(f, canvas)
        assert canvas.render()[: int(0.085 * 540)].min() == 255  # the title band is empty


def test_the_same_colour_twice_is_refused():
    with pytest.raises(Exception, match="both 'red'"):
        get(NAME).config(quick=True, overrides={"away": "red"})
