"""pretrained: trained once into the cache, loaded after; the quick presets are good."""

from __future__ import annotations

import time

import numpy as np
import pytest

from genailab.errors import UnknownNameError
from genailab.vision.pretrained import pretrained


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("cache")
    mp.setenv("GENAILAB_CACHE", str(folder))
    yield folder
    mp.undo()


def test_quick_shapes_is_trained_once_then_loaded(cache):
    cnn, train, test = pretrained("shapes", "quick", device="cpu")
    summary = cnn.summary
    assert summary["shape_accuracy"] >= 0.95 and summary["colour_accuracy"] >= 0.95
    assert cnn.accuracy(test.images, test.labels) == pytest.approx(summary["test_accuracy"])
    assert len(list((cache / "vision").iterdir())) == 1
    t0 = time.perf_counter()
    again, train2, _ = pretrained("shapes", "quick", device="cpu")
    assert time.perf_counter() - t0 < 5
    assert np.array_equal(train2.images, train.images)
    assert np.allclose(again.predict_proba(test.images[:50]), cnn.predict_proba(test.images[:50]))


def test_unknown_preset():
    with pytest.raises(UnknownNameError, match="presets: full, quick"):
        pretrained("shapes", "medium")
