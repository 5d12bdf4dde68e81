"""Activation atlas build time, for ``benchmarks/cnn.py`` (issue 13: "atlas build time").

:func:`bench_atlas` builds the atlas of the chapter's pretrained network (the experiment
``activation-atlas``'s settings) and times each part, then times, in the same run, the anchors
a user would reach for instead:

- UMAP as ``umap.UMAP(random_state=...).fit_transform`` on the same patches (umap-learn's own
  neighbour search: under 4096 points an all-pairs matrix through a Python-level metric),
  against :func:`genailab.vision.atlas.umap_layout` (exact neighbours by torch, handed over as
  ``precomputed_knn``);
- scikit-learn's ``PCA`` and ``trustworthiness`` against ours.

The first UMAP call of a process pays umap-learn's import and, on a machine where numba's
cache is cold, about 25 s of compilation once; ``umap_import_s`` and ``umap_s`` show both (run
twice to see the warm figure).

Run alone: ``python benchmarks/cnn_atlas_section.py [--quick] [--no-anchors]``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np


def _timed(fn, *args, **kwargs) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def bench_atlas(quick: bool = False, anchors: bool = True, data: str = "mnist") -> dict[str, Any]:
    """Time the atlas of ``pretrained(data, "quick" | "full")`` part by part, with anchors.

    Returns
    -------
    dict
        ``patches``, ``cells``, seconds of each part (``patches_s``, ``umap_import_s``,
        ``umap_s``, ``pca_s``, ``grid_s``, ``trust_s``, ``tiles_s``, ``build_s`` their sum),
        ``trust_umap``, ``trust_pca``, ``purity_umap``, ``purity_pca``, and with ``anchors``
        ``umap_plain_s``, ``sklearn_pca_s``, ``sklearn_trust_s`` and their ratios.
    """
    import torch

    from genailab.experiments.activation_atlas import Config
    from genailab.vision import atlas as A
    from genailab.vision.pretrained import pretrained

    cfg = Config(**Config.QUICK) if quick else Config()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    cnn, train_set, test_set = pretrained(data, cfg.network, device="cpu")
    n = min(cfg.images, len(test_set.images))
    chosen = np.sort(np.random.default_rng(cfg.seed).permutation(len(test_set.images))[:n])
    images, labels = test_set.images[chosen], test_set.labels[chosen]
    out: dict[str, Any] = {"data": data, "preset": "quick" if quick else "full"}

    patches, out["patches_s"] = _timed(
        A.collect_patches, cnn, images, labels, cfg.stage, max_patches=cfg.patches, seed=0
    )
    X = patches.vectors
    t = time.perf_counter()
    import umap  # its import alone is seconds: numba, pynndescent, scikit-learn

    out["umap_import_s"] = time.perf_counter() - t
    Y_umap, out["umap_s"] = _timed(
        A.umap_layout, X, n_neighbors=cfg.neighbours, n_epochs=cfg.epochs or None, seed=0
    )
    Y_pca, out["pca_s"] = _timed(A.pca_layout, X)
    t = time.perf_counter()
    grid = A.grid_cells(Y_umap, X, patches.labels, cfg.grid, cfg.min_count)
    pca_grid = A.grid_cells(Y_pca, X, patches.labels, cfg.grid, cfg.min_count)
    out["grid_s"] = time.perf_counter() - t
    t = time.perf_counter()
    out["trust_umap"] = A.trustworthiness(X, Y_umap, 5)
    out["trust_pca"] = A.trustworthiness(X, Y_pca, 5)
    out["trust_s"] = (time.perf_counter() - t) / 2
    _, out["tiles_s"] = _timed(
        A.cell_tiles,
        cnn,
        cfg.stage,
        grid.means,
        steps=cfg.steps,
        device="cpu",
        colours=train_set.images[:500],
    )
    out.update(
        patches=len(X),
        cells=len(grid.kept),
        purity_umap=grid.purity,
        purity_pca=pca_grid.purity,
        steps=cfg.steps,
    )
    out["build_s"] = (
        sum(out[k] for k in ("patches_s", "umap_s", "pca_s", "grid_s", "tiles_s"))
        + 2 * out["trust_s"]
    )
    if anchors:
        import warnings

        import umap
        from sklearn.decomposition import PCA
        from sklearn.manifold import trustworthiness

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reducer = umap.UMAP(n_neighbors=cfg.neighbours, random_state=0, n_jobs=1)
            _, out["umap_plain_s"] = _timed(reducer.fit_transform, X)
        _, out["sklearn_pca_s"] = _timed(PCA(2, svd_solver="full").fit_transform, X)
        _, out["sklearn_trust_s"] = _timed(trustworthiness, X, Y_umap, n_neighbors=5)
        out["umap_speedup"] = out["umap_plain_s"] / out["umap_s"]
        out["trust_speedup"] = out["sklearn_trust_s"] / out["trust_s"]
    out["load"] = os.getloadavg()[0]
    return out


def table(figures: dict[str, Any]) -> str:
    """The figures as a small text table."""
    f = figures
    rows = [
        f"activation atlas ({f['data']}, {f['preset']}): {f['patches']} patches, "
        f"{f['cells']} cells, {f['steps']} feature-visualisation steps",
        f"  build {f['build_s']:.1f} s = patches {f['patches_s']:.2f} + UMAP {f['umap_s']:.1f} "
        f"+ PCA {f['pca_s']:.3f} + grid {f['grid_s']:.3f} + 2 x trust {f['trust_s']:.2f} "
        f"+ tiles {f['tiles_s']:.1f}   (import umap {f['umap_import_s']:.1f} s)",
        f"  trustworthiness UMAP {f['trust_umap']:.3f} / PCA {f['trust_pca']:.3f}; "
        f"purity {f['purity_umap']:.2f} / {f['purity_pca']:.2f}",
    ]
    if "umap_plain_s" in f:
        rows += [
            f"  UMAP: ours {f['umap_s']:.1f} s vs umap.UMAP().fit_transform "
            f"{f['umap_plain_s']:.1f} s ({f['umap_speedup']:.1f}x)",
            f"  trustworthiness: ours {f['trust_s']:.2f} s vs scikit-learn "
            f"{f['sklearn_trust_s']:.2f} s ({f['trust_speedup']:.1f}x); PCA ours "
            f"{f['pca_s']:.3f} s vs scikit-learn {f['sklearn_pca_s']:.3f} s",
        ]
    rows.append(f"  (load average {f['load']:.1f})")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--data", default="mnist")
    args = parser.parse_args()
    print(table(bench_atlas(args.quick, not args.no_anchors, args.data)))


if __name__ == "__main__":
    main()
