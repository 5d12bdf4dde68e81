"""One deep network, eight layers of 32 units that learn to tell the two arms of a spiral apart,
trained three times from the same initial weights with the same plain gradient descent: with
backpropagation written out by hand in numpy (the chain rule, one layer at a time, in this very
file), with genailab's own autograd engine, and with PyTorch. The three loss curves lie exactly on
top of each other, spikes included; the panel below them tracks the largest relative gap between
them, which stays at the rounding error of float64 (1e-16, slowly amplified to {max_rel_diff:.0e} in
this run). The
second part asks why depth used to be hard. It trains three variants of the network and shows, at
every step, the size of the gradient that reaches each layer, on a log scale: with sigmoid units
the signal shrinks at every layer on its way back, so the first layer gets a gradient
{sigmoid_shrink:,.0f} times smaller than the last, and the network never gets past chance (loss
ln 2 = 0.693); ReLU units keep it roughly constant, and residual connections, which add each layer's
input back to its output, give it a direct path home. The figure to watch is the ratio of the
first layer's gradient to the last's in each variant.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from genailab.engine import Tensor, nn, no_grad, optim
from genailab.engine import functional as F
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

EXTENT = 1.25  # the spiral lies in [-EXTENT, EXTENT]^2
GRID = 64  # decision map resolution
VARIANTS = (("sigmoid", False), ("relu", False), ("relu", True))
VARIANT_NAMES = ("sigmoid", "ReLU", "ReLU + residual")
VARIANT_KEYS = ("sigmoid", "relu", "residual")
NORM_RANGE = (1e-8, 1e4)  # y range of the gradient-norm bars (headroom for the labels)
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@experiment(
    name="deep-network",
    chapter="From zero to GPT",
    title="Backpropagation by hand, by the engine, by PyTorch; and vanishing gradients",
    order=5,
    seconds=(40, 15),
)
@dataclass
class Config:
    depth: int = setting(
        8, help="Linear layers; the residual variant needs at least one W x W layer", ge=3, le=100
    )
    width: int = setting(32, help="units per hidden layer", ge=2, le=512)
    points: int = setting(240, help="spiral points, half on each arm", ge=4, le=10_000)
    steps: int = setting(
        800, help="gradient steps of the three implementations (part 1)", ge=1, le=20_000
    )
    variant_steps: int = setting(
        400,
        help="gradient steps of the sigmoid, ReLU and residual variants (part 2)",
        ge=1,
        le=20_000,
    )
    lr: float = setting(0.1, help="learning rate of plain gradient descent", gt=0, le=10)
    snapshots: int = setting(80, help="frames per part", ge=2, le=5000)
    seed: int = seed_setting()
    QUICK = dict(steps=200, variant_steps=200, snapshots=10)


QUESTION = (
    "Does backpropagation written by hand give exactly what an autograd engine and PyTorch "
    "give, and why did deep networks of sigmoid units fail to learn?"
)
ANSWER = (
    "Hand, engine and PyTorch agree to {max_rel_diff:.0e}. Sigmoid's first layer gets "
    "{first_to_last_at_init_sigmoid:.0e} of the last one's gradient: loss "
    "{final_loss_sigmoid:.3f}; ReLU {final_loss_relu:.2f}"
)
CLAIMS = (
    Claim(
        "max(max_rel_diff_engine, max_rel_diff_torch) < 1e-9",
        "by hand, by the engine and by PyTorch, the losses agree to 1e-9 at every step",
    ),
    Claim(
        "first_to_last_at_init_sigmoid < 0.01 * min(first_to_last_at_init_relu, "
        "first_to_last_at_init_residual)",
        "with sigmoids, 100 times less of the gradient reaches layer 1 than with ReLU",
    ),
    Claim(
        "abs(final_loss_sigmoid - 0.6931) < 0.005",
        "the sigmoid network stays at chance, loss ln 2 = 0.693",
    ),
    Claim(
        "max(final_loss_relu, final_loss_residual) < 0.6",
        "the ReLU and residual networks get past chance: loss below 0.6",
    ),
)


def caption(part: str, progress: float) -> str:
    """The message of a frame's stretch: each part in two halves."""
    if part == "implementations":
        if progress < 0.5:
            return "Backpropagation three ways: by hand in numpy, by genailab's engine, by PyTorch"
        return "Same weights, same steps: the three loss curves agree to rounding, spikes too"
    if progress < 0.5:
        return "Why depth was hard: the size of the gradient that reaches each layer"
    return "With sigmoids the gradient vanishes on its way back: stuck at chance; ReLU learns"


def memory_bytes(cfg: Config) -> int:
    """Peak bytes of a run, counted in float64 arrays (measured against tracemalloc).

    Activations: about 9 arrays of (points, width) per hidden layer: the cache of the hand-written
    backward pass, the engine's graph and its gradients, the graph of the last step of each part
    that is kept alive, and PyTorch's saved tensors (which tracemalloc does not see). Weights:
    about 17 copies of the parameters (the start, the hand-written copy and its gradients, the
    engine's and PyTorch's parameters and gradients, three variants with theirs). The decision
    map runs the grid of GRID^2 points through one layer at a time; the curves are small.
    """
    widths = sizes(cfg)
    params = sum(a * b + b for a, b in itertools.pairwise(widths))
    activations = 9 * cfg.points * cfg.width * (cfg.depth - 1)
    grid = 3 * GRID**2 * cfg.width
    curves = 3 * (cfg.steps + 1) + 4 * (cfg.variant_steps + 1) * (cfg.depth + 1)
    return 8 * (activations + 17 * params + grid + curves)


# ------------------------------------------------------------------------------- data, weights
def spiral(points: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms, 1.5 turns each: inputs (N, 2) and labels (N,) in {0, 1}."""
    labels = np.arange(points) % 2  # (N,)
    r = np.sqrt(rng.uniform(0.02, 1.0, points))  # (N,): uniform density over the disc
    angle = 3 * np.pi * r + np.pi * labels + 0.25 * rng.standard_normal(points) * r
    return np.c_[r * np.cos(angle), r * np.sin(angle)] * EXTENT * 0.95, labels


def sizes(cfg: Config) -> list[int]:
    return [2] + [cfg.width] * (cfg.depth - 1) + [2]


def initial_weights(cfg: Config, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-normal weights W ~ N(0, 2 / fan_in) of torch's shape (out, in), zero biases, float64.

    He init keeps the size of the signal through ReLU layers (half the units are off, so the
    weights make up a factor 2); every variant and every implementation starts from these.
    """
    return [
        (rng.standard_normal((b, a)) * math.sqrt(2.0 / a), np.zeros(b))
        for a, b in zip(sizes(cfg)[:-1], sizes(cfg)[1:], strict=True)
    ]


def variant_weights(cfg: Config, weights, residual: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """The residual variant scales its hidden (W x W) layers by 1 / sqrt(their number).

    Each block adds its output to the stream; at full He scale the stream's variance would
    double per block. Scaling the branches by 1 / sqrt(blocks), as GPT-2 scales its residual
    projections, keeps it bounded.
    """
    if not residual:
        return weights
    blocks = cfg.depth - 2
    return [
        (W / math.sqrt(blocks), b) if 0 < i < cfg.depth - 1 else (W, b)
        for i, (W, b) in enumerate(weights)
    ]


# ------------------------------------------------------------------------------- by hand
# Backpropagation written out, to read next to the engine. For layer l = 1 .. L:
#   z_l = h_{l-1} W_l^T + b_l        a_l = act(z_l)        h_l = a_l  (or h_{l-1} + a_l)
# with h_0 = x and no activation on the last layer, whose z_L are the logits. The loss is the
# mean cross-entropy, and the chain rule, applied from the top down, gives
#   dL/dz_L = (softmax(z_L) - onehot(y)) / N
#   dL/dW_l = (dL/dz_l)^T h_{l-1}              dL/db_l = sum over samples of dL/dz_l
#   dL/dh_{l-1} = (dL/dz_l) W_l   (+ dL/dh_l when the layer is residual: the skip passes it on)
#   dL/dz_l = dL/dh_l * act'(z_l)   with sigmoid' = s (1 - s) <= 1/4 and relu' = [z > 0]
def _act(z: np.ndarray, activation: str) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z)) if activation == "sigmoid" else np.maximum(z, 0.0)


def _act_slope(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    return a * (1.0 - a) if activation == "sigmoid" else (z > 0).astype(z.dtype)


def numpy_forward(weights, x: np.ndarray, activation: str = "relu", residual: bool = False):
    """Logits (N, C) and the cache of every layer's (input, pre-activation, activation)."""
    h, cache = x, []
    *hidden, (W_out, b_out) = weights
    for W, b in hidden:
        z = h @ W.T + b  # (N, out)
        a = _act(z, activation)  # (N, out)
        cache.append((h, z, a))
        h = h + a if residual and W.shape[0] == W.shape[1] else a
    cache.append((h, None, None))
    return h @ W_out.T + b_out, cache  # (N, C)


def numpy_loss_and_grads(weights, x, y, activation: str = "relu", residual: bool = False):
    """Mean cross-entropy and the gradient (dW, db) of every layer, by the chain rule above."""
    logits, cache = numpy_forward(weights, x, activation, residual)
    N = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, C): exp never overflows
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    loss = -log_p[np.arange(N), y].mean()
    dz = np.exp(log_p)  # (N, C): dL/dz_L = (softmax - onehot) / N
    dz[np.arange(N), y] -= 1.0
    dz /= N
    grads: list = [None] * len(weights)
    grads[-1] = (dz.T @ cache[-1][0], dz.sum(axis=0))  # the output layer
    dh = dz @ weights[-1][0]  # (N, width): dL/dh_{L-1}
    for i in range(len(weights) - 2, -1, -1):  # hidden layers, top down
        W, _ = weights[i]
        h_in, z, a = cache[i]
        dz = dh * _act_slope(z, a, activation)  # (N, out): through the activation
        grads[i] = (dz.T @ h_in, dz.sum(axis=0))  # (out, in), (out,)
        skip = residual and W.shape[0] == W.shape[1]
        dh = dz @ W + dh if skip else dz @ W  # (N, in): the skip hands dh down unchanged
    return loss, grads


def numpy_sgd(weights, grads, lr: float) -> None:
    """Plain gradient descent, in place: W <- W - lr dW."""
    for (W, b), (dW, db) in zip(weights, grads, strict=True):
        W -= lr * dW
        b -= lr * db


# ------------------------------------------------------------------------------- engine, torch
def engine_mlp(cfg: Config, weights, activation: str = "relu", residual: bool = False) -> nn.MLP:
    """The engine's MLP in float64, loaded with ``weights``."""
    model = nn.MLP(sizes(cfg), activation=activation, residual=residual, dtype=np.float64)
    model.load_state_dict(
        {
            f"layers.{i}.{k}": v
            for i, (W, b) in enumerate(weights)
            for k, v in (("weight", W), ("bias", b))
        }
    )
    return model


def torch_mlp(weights, activation: str = "relu", residual: bool = False):
    """The same network in PyTorch, float64: a list of ``torch.nn.Linear`` and a forward."""
    import torch

    class TorchMLP(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(
                torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64) for W, _ in weights
            )
            with torch.no_grad():
                for layer, (W, b) in zip(self.layers, weights, strict=True):
                    layer.weight.copy_(torch.from_numpy(W))
                    layer.bias.copy_(torch.from_numpy(b))

        def forward(self, x):
            act = torch.sigmoid if activation == "sigmoid" else torch.relu
            *hidden, last = self.layers
            for layer in hidden:
                a = act(layer(x))
                x = x + a if residual and layer.in_features == layer.out_features else a
            return last(x)

    return TorchMLP()


# ------------------------------------------------------------------------------- frames
def frame_count(cfg: Config) -> int:
    """The snapshots of the three identical runs, then those of the three variants."""
    return len(_shown(cfg.steps, cfg.snapshots)) + len(_shown(cfg.variant_steps, cfg.snapshots))


def _shown(steps: int, snapshots: int) -> set[int]:
    return set(np.unique(np.linspace(0, steps, snapshots).round().astype(int)).tolist())


def frames(cfg: Config) -> Iterator[Frame]:
    import torch

    torch.set_num_threads(1)  # tiny matrices: threads cost more than they give
    rng = np.random.default_rng(cfg.seed)
    x, y = spiral(cfg.points, rng)  # (N, 2), (N,)
    weights = initial_weights(cfg, rng)
    axis = np.linspace(-EXTENT, EXTENT, GRID)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)  # (G*G, 2), rows = y

    # ---- part 1: one network (ReLU), three implementations, plain SGD, float64
    by_hand = [(W.copy(), b.copy()) for W, b in weights]
    engine = engine_mlp(cfg, weights)
    engine_opt = optim.SGD(engine.parameters(), lr=cfg.lr)
    twin = torch_mlp(weights)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=cfg.lr)
    x_engine, x_torch, y_torch = Tensor(x), torch.from_numpy(x), torch.from_numpy(y)
    losses = np.empty((3, cfg.steps + 1))  # numpy, engine, torch
    shown = _shown(cfg.steps, cfg.snapshots)
    for t in range(cfg.steps + 1):
        loss_np, grads = numpy_loss_and_grads(by_hand, x, y)
        logits_engine = engine(x_engine)  # (N, 2)
        loss_engine = F.cross_entropy(logits_engine, y)
        loss_torch = torch.nn.functional.cross_entropy(twin(x_torch), y_torch)
        losses[:, t] = loss_np, loss_engine.item(), loss_torch.item()
        if t in shown:
            rel = np.abs(losses[1:, : t + 1] - losses[0, : t + 1]) / losses[0, : t + 1]  # (2, t+1)
            worst = np.maximum.accumulate(rel, axis=1)  # (2, t+1): the largest so far
            with no_grad():
                logits = engine(Tensor(grid)).data  # (G*G, 2)
            prob = np.exp(logits[:, 1] - np.logaddexp(logits[:, 0], logits[:, 1]))  # softmax
            accuracy = np.mean(logits_engine.data.argmax(1) == y)
            yield Frame(
                step=t,
                arrays={
                    "x": x,
                    "y": y,
                    "prob": prob.reshape(GRID, GRID),
                    "losses": losses[:, : t + 1],
                    "rel_diff": worst,
                },
                scalars={
                    "loss_numpy": losses[0, t],
                    "loss_engine": losses[1, t],
                    "loss_torch": losses[2, t],
                    "max_rel_diff": rel.max(),
                    "accuracy": accuracy,
                },
                text={"part": "implementations", "steps": str(cfg.steps)},
                caption=caption("implementations", t / max(cfg.steps, 1)),
            )
        if t == cfg.steps:
            break
        numpy_sgd(by_hand, grads, cfg.lr)
        engine_opt.zero_grad()
        loss_engine.backward()
        engine_opt.step()
        twin_opt.zero_grad()
        loss_torch.backward()
        twin_opt.step()
    part1 = {
        "max_rel_diff_engine": np.max(np.abs(losses[1] - losses[0]) / losses[0]),
        "max_rel_diff_torch": np.max(np.abs(losses[2] - losses[0]) / losses[0]),
        "max_rel_diff": np.max(np.abs(losses[1:] - losses[0]) / losses[0]),
        "final_loss": losses[0, -1],
        "accuracy": accuracy,
    }

    # ---- part 2: sigmoid, ReLU, ReLU + residual on the engine; the gradient at each layer
    models = [
        engine_mlp(cfg, variant_weights(cfg, weights, residual), activation, residual)
        for activation, residual in VARIANTS
    ]
    opts = [optim.SGD(m.parameters(), lr=cfg.lr) for m in models]
    T = cfg.variant_steps
    norms = np.empty((len(models), T + 1, cfg.depth))  # (V, T+1, L): ||dL/dW_l||
    variant_losses = np.empty((len(models), T + 1))
    shown = _shown(T, cfg.snapshots)
    for t in range(T + 1):
        for v, (model, opt) in enumerate(zip(models, opts, strict=True)):
            opt.zero_grad()
            loss = F.cross_entropy(model(x_engine), y)
            loss.backward()
            norms[v, t] = [np.linalg.norm(layer.weight.grad) for layer in model.layers]
            variant_losses[v, t] = loss.item()
            if t < T:
                opt.step()
        if t not in shown:
            continue
        ratios = norms[:, : t + 1, 0] / norms[:, : t + 1, -1]  # (V, t+1): first / last layer
        scalars = {f"loss_{k}": variant_losses[v, t] for v, k in enumerate(VARIANT_KEYS)}
        scalars |= {f"first_to_last_{k}": ratios[v, t] for v, k in enumerate(VARIANT_KEYS)}
        scalars |= {f"first_layer_grad_{k}": norms[v, t, 0] for v, k in enumerate(VARIANT_KEYS)}
        if t == T:  # the run's final figures: part 1's agreement, part 2's ratios at the start
            scalars = {
                **part1,
                **{
                    f"first_to_last_at_init_{k}": norms[v, 0, 0] / norms[v, 0, -1]
                    for v, k in enumerate(VARIANT_KEYS)
                },
                **{f"final_loss_{k}": variant_losses[v, t] for v, k in enumerate(VARIANT_KEYS)},
                "sigmoid_shrink": norms[0, 0, -1] / norms[0, 0, 0],  # last layer's / first's
            }
        yield Frame(
            step=cfg.steps + 1 + t,
            arrays={
                "norms": norms[:, t],
                "norms_at_init": norms[:, 0],
                "first_layer": norms[:, : t + 1, 0],
                "ratios": ratios,
                "losses": variant_losses[:, : t + 1],
                "part1_losses": losses,
            },
            scalars=scalars,
            text={"part": "gradients", "step": str(t), "steps": str(T)},
            caption=caption("gradients", t / max(T, 1)),
            poster=t == T,
        )


# ------------------------------------------------------------------------------- drawing
def _log_y(ax, exponents) -> None:
    """A log y axis with labels 10^e at the given exponents (plain text: no mathtext cost)."""
    ax.set_yscale("log")
    ax.set_yticks(
        [10.0**e for e in exponents], [f"10{e}".translate(_SUPERSCRIPT) for e in exponents]
    )
    ax.minorticks_off()
    ax.tick_params(axis="y", labelsize=11)


def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    art: dict = {"title": fig.text(0.04, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)}
    # part 1: decision map, loss curves, relative differences
    spiral_ax = fig.add_axes((0.04, 0.07, 0.40, 0.72))
    x, y = frame.arrays["x"], frame.arrays["y"]
    art["map"] = spiral_ax.imshow(
        np.zeros((GRID, GRID)),
        extent=(-EXTENT, EXTENT, -EXTENT, EXTENT),
        origin="lower",
        cmap="RdBu_r",
        vmin=0,
        vmax=1,
        alpha=0.55,
        interpolation="bilinear",
    )
    for label, colour in ((0, PALETTE[0]), (1, PALETTE[3])):
        spiral_ax.scatter(*x[y == label].T, s=10, color=colour, edgecolor="white", linewidth=0.3)
    spiral_ax.set(xlim=(-EXTENT, EXTENT), ylim=(-EXTENT, EXTENT), xticks=[], yticks=[])
    spiral_ax.set_title("the engine's network: p(red arm)", fontsize=11, color=INK, loc="left")
    loss_ax = fig.add_axes((0.53, 0.53, 0.44, 0.24))
    style_axes(loss_ax)
    styles = (
        ("numpy, by hand", PALETTE[1], 7, "-", 0.45),
        ("genailab engine", PALETTE[0], 2.5, "-", 1.0),
        ("PyTorch", INK, 1.2, (0, (3, 3)), 1.0),
    )
    art["loss_lines"] = [
        loss_ax.plot([], [], color=c, lw=lw, ls=ls, alpha=al, label=name)[0]
        for name, c, lw, ls, al in styles
    ]
    loss_ax.set_xlim(0, int(frame.text["steps"]))
    loss_ax.set_ylim(0, 1.05 * frame.arrays["losses"][0, 0] + 0.05)
    loss_ax.set_ylabel("cross-entropy loss")
    loss_ax.legend(
        fontsize=SMALL_SIZE, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 0.98), ncol=3
    )
    diff_ax = fig.add_axes((0.53, 0.10, 0.44, 0.30))
    style_axes(diff_ax)
    _log_y(diff_ax, range(-18, -5, 3))
    diff_ax.set(ylim=(1e-18, 1e-6), xlim=(0, int(frame.text["steps"])))
    diff_ax.set_xlabel("SGD step")
    diff_ax.axhline(1e-9, color=MUTED, lw=1, ls=":")
    diff_ax.text(2, 2e-9, "test threshold 1e-9", color=MUTED, fontsize=SMALL_SIZE)
    art["diff_lines"] = [
        diff_ax.plot([], [], color=c, lw=1.2, label=name)[0]
        for name, c in (("engine vs numpy", PALETTE[0]), ("PyTorch vs numpy", INK))
    ]
    diff_ax.set_title("largest relative difference so far", fontsize=11, loc="left")
    diff_ax.legend(fontsize=SMALL_SIZE, frameon=False, loc="upper right", ncol=2)
    art["part1"] = [spiral_ax, loss_ax, diff_ax]
    art["part2"] = []
    art["ready2"] = False
    return art


def _setup_part2(canvas: Canvas, art: dict, frame: Frame) -> None:
    fig = canvas.figure
    depth = frame.arrays["norms"].shape[1]
    colours = (PALETTE[3], PALETTE[0], PALETTE[2])
    art["bars"], art["ratio_text"] = [], []
    for v, name in enumerate(VARIANT_NAMES):
        ax = fig.add_axes((0.06 + v * 0.32, 0.49, 0.27, 0.30))
        style_axes(ax)
        _log_y(ax, range(-8, 3, 2))
        ax.set(ylim=NORM_RANGE, xlim=(0.4, depth + 0.6))
        ax.set_xticks(range(1, depth + 1))
        ax.set_xlabel("layer (1 = input side)", fontsize=SMALL_SIZE)
        if v == 0:
            ax.set_ylabel("||dL/dW||")
        else:
            ax.set_yticklabels([])
        ax.set_title(name, fontsize=12, color=colours[v], loc="left", weight="bold")
        layers, start = (
            np.arange(1, depth + 1),
            np.clip(frame.arrays["norms_at_init"][v], *NORM_RANGE),
        )
        bottom = NORM_RANGE[0]
        ax.bar(layers, start - bottom, bottom=bottom, fill=False, edgecolor=MUTED, lw=1, ls="--")
        art["bars"].append(
            ax.bar(layers, np.ones(depth), bottom=bottom, color=colours[v], alpha=0.85)
        )
        art["ratio_text"].append(
            ax.text(
                0.03, 0.93, "", transform=ax.transAxes, va="top", fontsize=SMALL_SIZE, color=INK
            )
        )
        art["part2"].append(ax)
    T = int(frame.text["steps"])
    loss_ax = fig.add_axes((0.06, 0.08, 0.40, 0.28))
    style_axes(loss_ax)
    loss_ax.set(xlim=(0, T), ylim=(0, 1.05 * max(1.0, frame.arrays["losses"][:, 0].max())))
    loss_ax.set_xlabel("SGD step")
    loss_ax.set_title("training loss", fontsize=11, loc="left")
    ratio_ax = fig.add_axes((0.57, 0.08, 0.40, 0.28))
    style_axes(ratio_ax)
    _log_y(ratio_ax, range(-8, 3, 2))
    ratio_ax.set(xlim=(0, T), ylim=(NORM_RANGE[0], 1e2))
    ratio_ax.set_xlabel("SGD step")
    ratio_ax.set_title("gradient reaching layer 1, the input side", fontsize=11, loc="left")
    art["variant_loss"] = [loss_ax.plot([], [], color=c, lw=2)[0] for c in colours]
    art["variant_ratio"] = [ratio_ax.plot([], [], color=c, lw=2)[0] for c in colours]
    art["part2"] += [loss_ax, ratio_ax]
    for ax in art["part1"]:
        ax.set_visible(False)
    art["ready2"] = True


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s = frame.arrays, frame.scalars
    if frame.text["part"] == "implementations":
        art["map"].set_data(a["prob"])
        steps = np.arange(a["losses"].shape[1])
        for line, curve in zip(art["loss_lines"], a["losses"], strict=True):
            line.set_data(steps, curve)
        for line, curve in zip(art["diff_lines"], a["rel_diff"], strict=True):
            line.set_data(steps, np.maximum(curve, 1e-18))  # an exact match sits on the floor
        art["title"].set_text(
            f"Step {frame.step}: loss {s['loss_numpy']:.4f} by hand = {s['loss_engine']:.4f} "
            f"engine = {s['loss_torch']:.4f} PyTorch (max rel. diff. {s['max_rel_diff']:.0e})"
        )
        return
    if not art["ready2"]:
        _setup_part2(canvas, art, frame)
    norms = a["norms"]  # (V, L)
    for bars, row in zip(art["bars"], norms, strict=True):
        for bar, value in zip(bars, np.clip(row, *NORM_RANGE), strict=True):
            bar.set_height(value - NORM_RANGE[0])
    ratios, losses = a["ratios"], a["losses"]
    steps = np.arange(losses.shape[1])
    for v in range(len(VARIANT_NAMES)):
        art["ratio_text"][v].set_text(
            f"layer 1 / layer {norms.shape[1]} at step 0: {ratios[v, 0]:.0e}\n"
            f"loss now: {losses[v, -1]:.3f}"
        )
        art["variant_loss"][v].set_data(steps, losses[v])
        art["variant_ratio"][v].set_data(steps, np.clip(a["first_layer"][v], *NORM_RANGE))
    art["title"].set_text(
        f"Step {frame.text['step']}: size of the gradient reaching each layer (dashed: at step 0)"
    )
