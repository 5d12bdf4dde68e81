"""Feature visualisation against what must hold: a linear first stage's optimum is its kernel,
class-logit images are classified as their class, robust images survive jitter, and each
piece (1/f spectrum, colour square root, objectives, transforms) against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genailab.errors import DataError, UnknownNameError
from genailab.vision import objectives as O
from genailab.vision.alexnet import AlexNet
from genailab.vision.feature_vis import jitter_survival, objective_values, visualize
from genailab.vision.image_param import (
    FourierImage,
    PixelImage,
    colour_covariance,
    colour_decorrelation,
    frequency_scale,
)
from genailab.vision.robustness import Robustness, crop, jitter, pad, rotate, scale
from genailab.vision.trained import TrainedCNN


def correlated_rgb(n: int = 40, side: int = 8, seed: int = 0) -> np.ndarray:
    """Images (n, side, side, 3) in [0, 1] whose channels are strongly correlated."""
    rng = np.random.default_rng(seed)
    base = rng.random((n, side, side, 1))
    noise = rng.random((n, side, side, 3))
    return np.clip(0.7 * base + 0.3 * noise * [1.0, 0.5, 0.2], 0, 1)


# ----------------------------------------------------------------------------- (a) linear
def linear_first_stage(channels: int, seed: int = 0) -> TrainedCNN:
    """A small AlexNet whose conv1 is the bare convolution (no ReLU): linear in the image."""
    torch.manual_seed(seed)
    net = AlexNet(channels, 16, 3, widths=(6, 4, 4, 4, 4), fc=(8, 8), kernel1=5)
    net.stages["conv1"] = torch.nn.Sequential(net.stages["conv1"][0])  # the Conv2d alone
    # NOTE: one std for every channel, so that d(conv1)/d(image) is the kernel itself
    return TrainedCNN(net, "abc", [0.4] * channels, [0.25] * channels, device="cpu")


@pytest.mark.parametrize("channels,param", [(3, "fourier"), (3, "pixel"), (1, "fourier")])
def test_linear_stage_optimum_under_a_norm_bound_is_the_kernel(channels, param):
    cnn = linear_first_stage(channels)
    units = [0, 2, 3, 5]
    # the Lagrangian of max <w, x - 0.5> s.t. ||x - 0.5|| <= r: optimum x - 0.5 = w / (2 lambda)
    objective = O.neuron("conv1", units) + O.l2(4.0)
    colours = correlated_rgb() if channels == 3 else None
    result = visualize(
        cnn, objective, batch=4, steps=150, param=param, robust=False, colours=colours, lr=0.05
    )
    deviation = result.images - 0.5  # (B, 16, 16, C)
    patch = deviation[:, 6:11, 6:11]  # (B, 5, 5, C), the centre neuron's receptive field
    kernels = cnn.model.conv("conv1").weight[units].detach().permute(0, 2, 3, 1).numpy()
    flat_p, flat_k = patch.reshape(4, -1), kernels.reshape(4, -1)
    cosine = (
        (flat_p * flat_k).sum(1) / np.linalg.norm(flat_p, axis=1) / np.linalg.norm(flat_k, axis=1)
    )
    assert cosine.min() >= 0.95, cosine
    # and outside the receptive field the image stays at the penalty's grey
    outside = deviation.copy()
    outside[:, 6:11, 6:11] = 0
    assert np.abs(outside).max() < 0.1 * np.abs(patch).max()


def test_the_kernel_test_can_fail_on_a_different_kernel():
    cnn = linear_first_stage(3)
    result = visualize(cnn, O.neuron("conv1", 0) + O.l2(4.0), steps=150, robust=False)
    patch = (result.images[0] - 0.5)[6:11, 6:11].ravel()
    other = cnn.model.conv("conv1").weight[1].detach().permute(1, 2, 0).numpy().ravel()
    assert abs(patch @ other) / np.linalg.norm(patch) / np.linalg.norm(other) < 0.95


# ----------------------------------------------------------------------------- a trained net
@pytest.fixture(scope="module")
def digits_net():
    """A small AlexNet trained here on 1,500 MNIST digits for 250 steps (seconds)."""
    from genailab.vision.datasets import load_dataset

    data = load_dataset("mnist")
    order = np.random.default_rng(0).permutation(len(data.images))
    images, labels = data.images[order[:1500]], np.asarray(data.labels)[order[:1500]]
    x = torch.from_numpy(images).float().permute(0, 3, 1, 2) / 255.0  # (N, 1, 28, 28)
    mean, std = float(x.mean()), float(x.std())
    x, y = (x - mean) / std, torch.from_numpy(labels).long()
    # one thread while training: the same network on any machine and thread count (two
    # threads reduce in another order and train a slightly different network)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = AlexNet(
        1, 28, 10, widths=(8, 16, 16, 16, 16), fc=(32, 32), dropout=0.0, stride1=2, batchnorm=True
    )
    optimiser = torch.optim.Adam(net.parameters(), 3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(250):
        i = torch.randint(0, len(x), (64,), generator=g)
        loss = torch.nn.functional.cross_entropy(net(x[i]), y[i])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    torch.set_num_threads(threads)
    cnn = TrainedCNN(net, tuple(data.classes), [mean], [std], device="cpu")
    test = order[3000:4000]
    assert cnn.accuracy(data.images[test], np.asarray(data.labels)[test]) > 0.85
    return cnn, images


def test_class_logit_images_are_classified_as_their_class(digits_net):
    cnn, images = digits_net
    K, starts = len(cnn.classes), 3
    targets = list(range(K)) * starts  # three random starts per class, in one batch
    # the logit plus the log-probability: a logit alone can rise while another class's rises
    # faster; the best of the starts is kept, as the feature-visualization video does
    objective = O.class_logit(targets) + O.class_log_prob(targets)
    result = visualize(cnn, objective, batch=K * starts, steps=256, lr=0.05, colours=images)
    p = cnn.predict_proba(result.images)[np.arange(K * starts), targets].reshape(starts, K)
    assert p.max(axis=0).min() >= 0.9, p.round(2)
    assert (result.values[-8:].mean(0) > result.values[:8].mean(0) + 1).all()  # they rose


def test_robust_images_survive_jitter_far_better_than_naive_pixels(digits_net):
    cnn, images = digits_net
    objective = O.channel("conv3", list(range(8)))
    robust = visualize(cnn, objective, batch=8, steps=64, colours=images)
    naive = visualize(
        cnn, objective, batch=8, steps=64, param="pixel", robust=False, decorrelate=False
    )
    live = (robust.values[-1] > 0.1) & (naive.values[-1] > 0.1)  # channels that woke up
    assert live.sum() >= 5
    kept_robust = jitter_survival(cnn, objective, robust.images, pixels=2)[live].mean()
    kept_naive = jitter_survival(cnn, objective, naive.images, pixels=2)[live].mean()
    assert kept_robust >= 0.85 and kept_naive <= 0.65, (kept_robust, kept_naive)


# ----------------------------------------------------------------------------- parameterisation
def test_fourier_spectrum_is_scaled_by_one_over_frequency():
    size = 16
    image = FourierImage(1, 1, size, seed=0)
    with torch.no_grad():
        image.spectrum.zero_()
        image.spectrum[..., 0] = 1.0  # every coefficient real 1
        pre = image.decorrelated()  # (1, 1, 16, 16)
    amplitude = torch.fft.rfft2(pre * 4.0, norm="ortho").abs()[0, 0]  # (16, 9)
    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    f = torch.sqrt(fy**2 + fx**2)
    expected = 1.0 / torch.clamp(f, min=1.0 / size)
    assert torch.allclose(amplitude, expected, rtol=1e-4)
    assert torch.allclose(frequency_scale(size), expected)
    # an octave up halves the amplitude
    assert amplitude[0, 2] == pytest.approx(amplitude[0, 1] / 2, rel=1e-4)


def test_random_fourier_images_have_a_one_over_f_squared_power_spectrum():
    size = 32
    image = FourierImage(64, 1, size, seed=1)
    with torch.no_grad():
        power = torch.fft.rfft2(image.decorrelated(), norm="ortho").abs().pow(2).mean((0, 1))
    f = torch.sqrt(torch.fft.fftfreq(size)[:, None] ** 2 + torch.fft.rfftfreq(size)[None] ** 2)
    low, high = (f > 0.05) & (f < 0.08), (f > 0.2) & (f < 0.32)
    ratio = power[low].mean() / power[high].mean()
    expected = (f[high] ** -2).mean() / (f[low] ** -2).mean()
    assert float(ratio) == pytest.approx(1 / float(expected), rel=0.25)
    pixels = PixelImage(64, 1, size, seed=1)
    with torch.no_grad():
        white = torch.fft.rfft2(pixels.pixels, norm="ortho").abs().pow(2).mean((0, 1))
    assert float(white[low].mean() / white[high].mean()) == pytest.approx(1.0, rel=0.25)


def test_decorrelation_matrix_squares_to_the_covariance():
    images = correlated_rgb()
    cov = np.cov(images.reshape(-1, 3), rowvar=False)
    S = colour_decorrelation(images)
    assert np.allclose(colour_covariance(images), cov)
    assert np.allclose(S, S.T, atol=1e-7)
    assert np.allclose(S @ S, cov, atol=1e-6)
    assert not np.allclose(S, np.diag(np.diag(S)), atol=1e-3)  # the channels are mixed
    uint8 = (images * 255).round().astype(np.uint8)
    assert np.allclose(colour_decorrelation(uint8), S, atol=2e-3)
    grey = images[..., :1]
    assert colour_decorrelation(grey)[0, 0] == pytest.approx(grey.std(ddof=1), rel=1e-5)
    with pytest.raises(DataError, match=r"\(N, H, W, C\)"):
        colour_decorrelation(images[0])


def test_decorrelated_colours_have_the_datas_correlation():
    images = correlated_rgb()
    S = colour_decorrelation(images)
    with torch.no_grad():
        z = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
        mixed = torch.einsum("dc,bchw->bdhw", PixelImage(1, 3, 4, S).mix, z)
    got = np.corrcoef(mixed.numpy().reshape(3, -1))
    want = np.corrcoef(images.reshape(-1, 3), rowvar=False)
    assert np.allclose(got, want, atol=0.05)


# ----------------------------------------------------------------------------- objectives
def test_objectives_against_hand_computations():
    a = torch.arange(2 * 3 * 3 * 3, dtype=torch.float32).view(2, 3, 3, 3)  # (B, C, H, W)
    fc = torch.tensor([[1.0, -2.0, 3.0], [0.5, 0.0, 4.0]])  # (B, D)
    acts = {"conv2": a, "fc7": fc, "fc8": fc, "image": torch.full((2, 1, 2, 2), 0.75)}
    assert O.channel("conv2", 1)(acts).tolist() == [13.0, 40.0]  # mean of 9..17, 36..44
    assert O.channel("fc7", 2)(acts).tolist() == [3.0, 4.0]
    assert O.neuron("conv2", 2)(acts).tolist() == [22.0, 49.0]  # centre (1, 1)
    assert O.neuron("conv2", [0, 2], y=2, x=0)(acts).tolist() == [6.0, 51.0]
    assert O.class_logit(1)(acts).tolist() == [-2.0, 0.0]
    v = [1.0, 0.0, -1.0]
    # mean over positions: channel means (4, 13, 22) and (31, 40, 49)
    assert O.direction("conv2", v)(acts).tolist() == [-18.0, -18.0]
    assert O.direction("conv2", v, y=0, x=0)(acts).tolist() == [-18.0, -18.0]
    assert O.direction("fc7", [[0, 1, 0], [1, 1, 1]])(acts).tolist() == [-2.0, 4.5]
    cos = 4.0 / (np.sqrt(14.0) * np.sqrt(2.0))  # fc row 0 (1, -2, 3) . (1, 0, 1) = 4
    got = O.direction("fc7", [1.0, 0.0, 1.0], cossim_pow=2.0)(acts)[0].item()
    assert got == pytest.approx(4.0 * cos**2, rel=1e-6)
    assert O.l2(0.5)(acts).tolist() == [-0.125, -0.125]  # 0.5 * 4 * 0.25^2
    combined = 2.0 * O.channel("fc7", 0) - O.class_logit(2) + 1.0
    assert combined(acts).tolist() == [2.0 - 3.0 + 1.0, 1.0 - 4.0 + 1.0]
    assert sum([O.channel("fc7", 0), O.channel("fc7", 2)])(acts).tolist() == [4.0, 4.5]
    assert combined.stages == {"fc7", "fc8"}
    assert (1.0 - O.class_logit(0))(acts).tolist() == [0.0, 0.5]


def test_diversity_against_hand_computed_gram_cosines():
    a = torch.tensor(
        [
            [[[1.0, 0.0]], [[0.0, 0.0]]],  # gram [[0.5, 0], [0, 0]]
            [[[0.0, 0.0]], [[1.0, 1.0]]],  # gram [[0, 0], [0, 1]]
            [[[1.0, 1.0]], [[1.0, 1.0]]],  # gram all ones
        ]
    )  # (B=3, C=2, H=1, W=2)
    # cosines of the flattened grams: (1, 2) 0, (1, 3) 1/2, (2, 3) 1/2
    got = O.diversity("conv1", 2.0)({"conv1": a})
    assert got.tolist() == pytest.approx([-2.0 * 0.25, -2.0 * 0.25, -2.0 * 0.5])
    assert O.diversity("conv1", 1.0)({"conv1": a[:1]}).tolist() == [0.0]


def test_diversity_makes_a_batch_differ_in_style():
    cnn = linear_first_stage(1)
    objective = O.channel("conv2", 1)
    plain = visualize(cnn, objective, batch=3, steps=40, robust=False)
    varied = visualize(cnn, objective + O.diversity("conv2", 20.0), batch=3, steps=40, robust=False)
    similarity = O.diversity("conv2", -1.0)  # + the mean Gram cosine with the other images
    before = objective_values(cnn, similarity, plain.images).mean()
    after = objective_values(cnn, similarity, varied.images).mean()
    assert after < before - 0.05, (before, after)


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_bad_stage_channel_and_param_give_one_line_errors():
    cnn = linear_first_stage(3)
    with pytest.raises(UnknownNameError) as error:
        O.channel("conv9", 0)
    assert "conv9" in one_line(error) and "conv1" in one_line(error)
    with pytest.raises(UnknownNameError):
        O.neuron("fc9", 0)
    with pytest.raises(UnknownNameError):
        O.direction("pool7", [1.0])
    with pytest.raises(DataError) as error:
        visualize(cnn, O.channel("conv2", 99), steps=2)
    assert "channel 99 out of range: conv2 has 4" in one_line(error)
    with pytest.raises(DataError) as error:
        visualize(cnn, O.class_logit(7), steps=2)
    assert "class 7 out of range" in one_line(error)
    with pytest.raises(DataError) as error:
        visualize(cnn, O.channel("conv2", [0, 1, 2]), batch=2, steps=2)
    assert "3 channels given, one per image, for a batch of 2" in one_line(error)
    with pytest.raises(DataError) as error:
        O.channel("conv2", -1)
    assert ">= 0" in one_line(error)
    with pytest.raises(DataError) as error:
        visualize(cnn, O.neuron("conv2", 0, y=40), steps=2)
    assert "position (40, 4) outside conv2's 8 x 8" in one_line(error)
    with pytest.raises(UnknownNameError) as error:
        visualize(cnn, O.channel("conv2", 0), param="fft")
    assert "fourier, pixel" in one_line(error)
    with pytest.raises(DataError) as error:
        visualize(cnn, O.channel("conv2", 0), steps=0)
    assert "steps" in one_line(error)
    with pytest.raises(DataError) as error:
        visualize(cnn, O.direction("fc7", [1.0, 2.0]), steps=2)
    assert "vectors have 2 entries; fc7 has 8" in one_line(error)


# ----------------------------------------------------------------------------- robustness
def test_jitter_is_an_exact_whole_pixel_shift_per_image():
    x = torch.rand(6, 2, 10, 10)
    g = torch.Generator().manual_seed(3)
    y = jitter(x, 2, g)
    shifts = torch.randint(-2, 3, (6, 2), generator=torch.Generator().manual_seed(3))
    for b, (dx, dy) in enumerate(shifts.tolist()):  # output(i, j) = input(i + dy, j + dx)
        want = torch.roll(x[b], shifts=(-dy, -dx), dims=(1, 2))[:, 2:-2, 2:-2]
        assert torch.allclose(y[b, :, 2:-2, 2:-2], want, atol=1e-5)
    assert len({tuple(s) for s in shifts.tolist()}) > 1  # per image, not one for all


def test_transforms_keep_size_differentiable_and_random_per_image():
    x = torch.rand(1, 3, 12, 12).repeat(4, 1, 1, 1).requires_grad_(True)
    g = torch.Generator().manual_seed(0)
    y = Robustness()(x, g)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not torch.allclose(y[0], y[1])
    assert torch.allclose(pad(x, 3, 0.5)[..., :3, :], torch.full((4, 3, 3, 18), 0.5))
    assert torch.equal(crop(pad(x, 3), 12), x)
    assert torch.allclose(scale(x, [1.0], g), x, atol=1e-6)
    assert torch.allclose(rotate(x, 0.0, g), x)
    assert torch.allclose(rotate(x, 1e-9, g), x, atol=1e-5)  # a negligible angle


# ----------------------------------------------------------------------------- visualize
def test_visualize_rises_keeps_snapshots_and_is_reproducible():
    cnn = linear_first_stage(3)
    calls = []
    result = visualize(
        cnn, O.channel("conv1", 1), steps=20, every=8, on_step=lambda s, v: calls.append(s)
    )
    assert result.images.shape == (1, 16, 16, 3) and result.values.shape == (20, 1)
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    assert [s for s, _ in result.snapshots] == [0, 8, 16, 20] and calls == list(range(20))
    assert np.array_equal(result.snapshots[-1][1], result.images)
    again = visualize(cnn, O.channel("conv1", 1), steps=20, every=8)
    assert np.array_equal(again.images, result.images)
    assert result.values[-1, 0] > result.values[0, 0]
    value = objective_values(cnn, O.channel("conv1", 1), result.images)
    assert value.shape == (1,) and value[0] > 0


def test_our_adam_matches_torchs_adam_on_the_negated_objective():
    from genailab.vision.feature_vis import _Adam

    target = torch.tensor([1.0, -2.0, 3.0])
    ours = torch.zeros(3, requires_grad=True)
    theirs = torch.zeros(3, requires_grad=True)
    adam, reference = _Adam([ours], 0.1), torch.optim.Adam([theirs], lr=0.1)
    for _ in range(20):
        value = -((ours - target) ** 2).sum()  # maximised by ours == target
        adam.ascend(torch.autograd.grad(value, [ours]))
        reference.zero_grad()
        ((theirs - target) ** 2).sum().backward()  # torch minimises the loss -value
        reference.step()
    assert torch.allclose(ours, theirs, atol=1e-6)
