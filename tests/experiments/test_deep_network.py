"""The deep-network video: backprop by hand, by the engine and by PyTorch agree to rounding, and
the gradient-norm figures match PyTorch's autograd on the same weights."""

import math

import numpy as np
import pytest
import torch

from frame_memory import traced_peak
from genailab.errors import ConfigError
from genailab.experiments import deep_network as dn
from genailab.lab import get, iterate_frames
from genailab.memory import MemoryNeedError, check_memory

NAME = "deep-network"


@pytest.fixture(scope="module")
def frames():
    return list(iterate_frames("deep-network", quick=True))


@pytest.fixture(scope="module")
def setup():
    cfg = get("deep-network").config(quick=True)
    rng = np.random.default_rng(cfg.seed)
    x, y = dn.spiral(cfg.points, rng)
    return cfg, x, y, dn.initial_weights(cfg, rng)


def _torch_grads(weights, x, y, activation, residual):
    model = dn.torch_mlp(weights, activation, residual)
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    return loss.item(), [(m.weight.grad.numpy(), m.bias.grad.numpy()) for m in model.layers]


def test_the_three_loss_curves_coincide(frames):
    part1 = [f for f in frames if f.text["part"] == "implementations"]
    losses = frames[-1].arrays["part1_losses"]  # (3, steps + 1): numpy, engine, torch
    assert losses.shape == (3, 201) and part1[-1].step == 200
    rel = np.abs(losses[1:] - losses[0]) / losses[0]
    assert rel.max() < 1e-9
    assert losses[0, -1] < 0.6 * losses[0, 0]  # and they did learn
    final = frames[-1].scalars
    assert final["max_rel_diff_engine"] == rel[0].max()
    assert final["max_rel_diff_torch"] == rel[1].max()


@pytest.mark.parametrize(("activation", "residual"), dn.VARIANTS)
def test_hand_written_backprop_is_torch_autograd(setup, activation, residual):
    cfg, x, y, weights = setup
    weights = dn.variant_weights(cfg, weights, residual)
    loss, grads = dn.numpy_loss_and_grads(weights, x, y, activation, residual)
    loss_torch, grads_torch = _torch_grads(weights, x, y, activation, residual)
    assert loss == pytest.approx(loss_torch, rel=1e-13)
    for (dW, db), (tW, tb) in zip(grads, grads_torch, strict=True):
        np.testing.assert_allclose(dW, tW, rtol=1e-10, atol=1e-14 * np.abs(tW).max())
        np.testing.assert_allclose(db, tb, rtol=1e-10, atol=1e-14 * np.abs(tb).max())


def test_per_layer_gradient_norms_are_torch_autograd_s(frames, setup):
    cfg, x, y, weights = setup
    norms = frames[-1].arrays["norms_at_init"]  # (3, depth), from the engine at step 0
    for v, (activation, residual) in enumerate(dn.VARIANTS):
        start = dn.variant_weights(cfg, weights, residual)
        _, grads = _torch_grads(start, x, y, activation, residual)
        expected = [np.linalg.norm(dW) for dW, _ in grads]
        np.testing.assert_allclose(norms[v], expected, rtol=1e-10)


def test_sigmoid_gradients_vanish_relu_and_residual_ones_do_not(frames):
    final = frames[-1].scalars
    sigmoid = final["first_to_last_at_init_sigmoid"]
    relu, residual = final["first_to_last_at_init_relu"], final["first_to_last_at_init_residual"]
    assert sigmoid < 1e-3
    assert sigmoid < 1e-2 * residual and sigmoid < 1e-2 * relu
    assert relu > 1e-2 and residual > 1e-2
    # at step 0 the sigmoid net's gradient shrinks at every layer on its way down
    assert np.all(np.diff(frames[-1].arrays["norms_at_init"][0]) > 0)
    # stuck at chance (ln 2) while the others learn
    assert final["final_loss_sigmoid"] == pytest.approx(math.log(2), abs=2e-3)
    assert max(final["final_loss_relu"], final["final_loss_residual"]) < 0.6
    assert frames[-1].poster


def test_each_part_is_captioned_in_two_halves(frames):
    captions = [f.caption for f in frames]
    stretches = [c for i, c in enumerate(captions) if i == 0 or c != captions[i - 1]]
    assert len(stretches) == 4 and all(len(c) <= 90 for c in stretches)
    parts = [f.text["part"] for f in frames]
    assert captions[parts.index("gradients")] == stretches[2]  # a new caption with part 2
    assert captions.count(stretches[0]) == captions.count(stretches[2]) == 5


def test_frame_count_is_exact_and_the_final_figures_fill_the_docstring(frames):
    exp = get(NAME)
    assert len(frames) == exp.frame_count(exp.config(quick=True)) == 20
    assert exp.frame_count(exp.config()) == 160
    final = frames[-1].scalars
    assert final["max_rel_diff"] == max(final["max_rel_diff_engine"], final["max_rel_diff_torch"])
    assert final["sigmoid_shrink"] == pytest.approx(1 / final["first_to_last_at_init_sigmoid"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"depth": 2}, "depth must be in [3, 100], got 2"),
        ({"width": 513}, "width must be in [2, 512], got 513"),
        ({"lr": 0.0}, "lr must be in (0, 10], got 0.0"),
        ({"snapshots": 1}, "snapshots must be in [2, 5000], got 1"),
    ],
)
def test_out_of_bounds_values_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError) as refused:
        get(NAME).config(overrides=overrides)
    assert str(refused.value) == f"{NAME}: {message}"


def test_the_deepest_widest_network_on_the_most_points_is_refused():
    cfg = get(NAME).config(overrides={"depth": 100, "width": 512, "points": 10_000})
    need = dn.memory_bytes(cfg)  # 99 hidden layers of (10000, 512) activations, several times
    assert need > 24 * 2**30
    with pytest.raises(MemoryNeedError, match=r"^deep-network with .* would need about"):
        check_memory(need, f"{NAME} with depth=100, width=512", available=24 * 2**30)


def test_the_memory_estimate_covers_the_measured_peak():
    small = {"steps": 2, "variant_steps": 2, "snapshots": 2}
    for _ in get(NAME).frames(get(NAME).config(quick=True, overrides=small)):
        pass  # lazy imports happen here, outside the measurement
    cfg = get(NAME).config(overrides={"points": 600, "width": 64, "depth": 10, **small})
    peak = traced_peak(get(NAME).frames(cfg))
    # tracemalloc sees numpy and the engine, not PyTorch's tensors: the estimate adds about
    # two (points, width) arrays per layer for those, so it sits a little above the traced peak.
    assert peak < dn.memory_bytes(cfg) < 2 * peak
