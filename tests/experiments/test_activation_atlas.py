"""activation-atlas: the frames' figures are those of a direct build with the same seed, the
stretches come in order, the tiles sit where their cells are."""

import numpy as np
import pytest

from genailab.experiments.activation_atlas import Config, _mosaic, caption, frame_count

NAME = "activation-atlas"
SMALL = dict(images=60, patches=300, grid=5, min_count=3, steps=8, reveal=3, snapshots=2)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from genailab.lab import iterate_frames

    mp = pytest.MonkeyPatch()
    mp.setenv("GENAILAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    cfg = Config(**{**Config.QUICK, **SMALL, "device": "cpu"})
    frames = list(iterate_frames(NAME, quick=True, overrides={**SMALL, "device": "cpu"}))
    yield cfg, frames
    mp.undo()


def test_frames_follow_the_stretches_in_order(run):
    cfg, frames = run
    assert len(frames) == frame_count(cfg)
    parts = [f.text["part"] for f in frames]
    order = ["reveal", "cells", "purity", "tiles", "atlas"]
    assert [p for i, p in enumerate(parts) if i == 0 or parts[i - 1] != p] == order
    assert [f.caption for f in frames] == [caption(p, cfg) for p in parts]
    assert all(len(f.caption) <= 90 for f in frames)
    assert [f.poster for f in frames].index(True) == len(frames) - 1
    shown = [f.scalars["shown"] for f in frames if f.text["part"] == "reveal"]
    assert shown == sorted(shown) and shown[-1] == cfg.patches


def test_final_figures_are_those_of_a_direct_build(run):
    from genailab.vision import atlas as A
    from genailab.vision.pretrained import pretrained

    cfg, frames = run
    cnn, _, test = pretrained(cfg.data, cfg.network, device="cpu")
    chosen = np.sort(np.random.default_rng(cfg.seed).permutation(len(test.images))[: cfg.images])
    p = A.collect_patches(
        cnn, test.images[chosen], test.labels[chosen], cfg.stage, max_patches=cfg.patches
    )
    Y = A.umap_layout(
        p.vectors, n_neighbors=cfg.neighbours, n_epochs=cfg.epochs or None, seed=cfg.seed
    )
    grid = A.grid_cells(Y, p.vectors, p.labels, cfg.grid, cfg.min_count)
    s = frames[-1].scalars
    assert s["trust_umap"] == pytest.approx(A.trustworthiness(p.vectors, Y, 5), abs=1e-12)
    assert s["trust_pca"] == pytest.approx(
        A.trustworthiness(p.vectors, A.pca_layout(p.vectors), 5), abs=1e-12
    )
    assert s["purity_umap"] == pytest.approx(grid.purity) and s["cells"] == len(grid.kept)
    assert s["purity_chance"] == pytest.approx(A.chance_purity(p.labels, grid))
    side = cfg.grid * (cnn.image_size + 4)
    assert frames[-1].arrays["mosaic"].shape == (side, side, 3)


def test_mosaic_puts_each_tile_in_its_cell_row_zero_at_the_bottom():
    tiles = np.stack([np.full((2, 2, 1), v) for v in (0.1, 0.5, 0.9)])  # (3, 2, 2, 1)
    frame = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    out = _mosaic(tiles, rows=np.array([0, 0, 2]), cols=np.array([0, 2, 1]), size=3, frame=frame)
    assert out.shape == (18, 18, 3)
    cell = lambda r, c: out[(2 - r) * 6 : (3 - r) * 6, c * 6 : (c + 1) * 6]  # noqa: E731
    assert np.allclose(cell(0, 0)[2:4, 2:4], 0.1) and np.allclose(cell(0, 0)[0, 0], [1, 0, 0])
    assert np.allclose(cell(0, 2)[2:4, 2:4], 0.5) and np.allclose(cell(2, 1)[2:4, 2:4], 0.9)
    assert np.allclose(cell(1, 1), 1.0)  # an empty cell stays white


def test_config_rejects_fewer_steps_than_snapshots():
    with pytest.raises(ValueError, match="steps must be >= snapshots"):
        Config(steps=8, snapshots=12)
