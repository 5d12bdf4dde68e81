"""Feature-visualisation steps per second, for benchmarks/cnn.py (the lead merges this section).

usage: PYTHONPATH=src python benchmarks/cnn_featvis_section.py [--preset quick|full]

One step = parameters -> image -> random transforms -> forward to the objective's stage ->
backward to the parameters -> Adam. Measured on the cached ``pretrained("shapes", preset)``
network with a batch of 4 images, for the robust Fourier parameterisation (what the gallery
uses) and for naive pixels (no transforms): the ratio is the price of the robustness and the
spectrum. The anchor is one plain forward + backward of the same network on the same batch
(what any gradient-based visualisation must pay), timed in the same run.
"""

from __future__ import annotations

import argparse
import time

import torch


def _rate(fn, seconds: float = 2.0) -> float:
    fn()  # warm up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - t0)


def bench_featvis(preset: str = "quick", batch: int = 4, steps: int = 32) -> dict[str, float]:
    """Steps/s of :func:`genailab.vision.feature_vis.visualize` and of a bare forward+backward.

    Returns
    -------
    dict
        ``featvis_robust_steps_s``, ``featvis_naive_steps_s`` (visualize steps per second,
        batch ``batch``), ``forward_backward_s`` (the anchor: forward to conv4 + backward to
        the input, per second), ``robust_over_anchor`` (the robust step's rate / the anchor's).
    """
    from genailab.vision import objectives as O
    from genailab.vision.feature_vis import visualize
    from genailab.vision.image_param import colour_decorrelation
    from genailab.vision.pretrained import pretrained

    cnn, train, _ = pretrained("shapes", preset, device="cpu")
    sqrt_cov = colour_decorrelation(train.images)
    objective = O.channel("conv4", list(range(batch)))
    out: dict[str, float] = {}
    for name, options in (
        ("robust", dict(colours=sqrt_cov)),
        ("naive", dict(param="pixel", decorrelate=False, robust=False)),
    ):
        visualize(cnn, objective, batch=batch, steps=2, every=2, **options)  # warm up
        t0 = time.perf_counter()
        visualize(cnn, objective, batch=batch, steps=steps, every=steps, **options)
        out[f"featvis_{name}_steps_s"] = steps / (time.perf_counter() - t0)
    x = torch.rand(batch, cnn.channels, cnn.image_size, cnn.image_size, requires_grad=True)

    def forward_backward() -> None:
        cnn.model.forward(cnn.standardize(x), upto="conv4").mean().backward(inputs=[x])

    out["forward_backward_s"] = _rate(forward_backward)
    out["robust_over_anchor"] = out["featvis_robust_steps_s"] / out["forward_backward_s"]
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="quick", choices=["quick", "full"])
    args = parser.parse_args()
    figures = bench_featvis(args.preset)
    print(f"{'measure (shapes ' + args.preset + ', batch 4)':42s} {'per second':>12s}")
    for key, value in figures.items():
        print(f"{key:42s} {value:12.2f}")
