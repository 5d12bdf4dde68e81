"""One training step of genailab's numpy engine against PyTorch CPU eager, same model, same batch.

Two models, each timed as forward + backward + AdamW step, median over many steps after a
warm-up, in float32, with the same number of threads for numpy's BLAS and torch:

1. an MLP 784-256-256-10 (ReLU) at batch 128, cross-entropy on random labels;
2. the GPT preset of the zero-to-GPT chapter: 4 layers, 4 heads, 128 dims, context 64,
   batch 12, vocabulary 65 (nanoGPT's CPU preset, with a tied head).

Each (framework, model) pair runs in its own subprocess, so its peak resident memory (above
what the imports alone take) is measured without the other's allocations.
Goal: the engine within 1.5x of PyTorch's step time on both, memory within 2x.

By default both sides run with :func:`genailab.engine.tune_allocator` (glibc keeps freed
memory instead of returning it to the kernel); ``--default-allocator`` measures without it.

Run: ``python benchmarks/engine.py [--steps N] [--threads N] [--default-allocator]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn as tnn
from torch.nn import functional as TF

MLP_SIZES = (784, 256, 256, 10)
MLP_BATCH = 128
GPT = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
GPT_BATCH = 12


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def time_steps(step, steps: int, warmup: int = 5) -> float:
    """Median wall time of ``step()`` in milliseconds."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


# ----------------------------------------------------------------------------- engine side
def engine_step(model_name: str):
    from genailab.engine import functional as F
    from genailab.engine.nn import GPT as EngineGPT
    from genailab.engine.nn import MLP, GPTConfig
    from genailab.engine.optim import AdamW

    rng = np.random.default_rng(0)
    if model_name == "mlp":
        model = MLP(list(MLP_SIZES), activation="relu", rng=0)
        x = rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32)
        y = rng.integers(0, MLP_SIZES[-1], MLP_BATCH)

        def loss_fn():
            return F.cross_entropy(model(x), y)
    else:
        # the torch twin below has biases and learned positions (nanoGPT as written)
        model = EngineGPT(GPTConfig(**GPT, bias=True, rotary=False), rng=0)
        idx = rng.integers(0, GPT["vocab_size"], (GPT_BATCH, GPT["block_size"]))
        targets = rng.integers(0, GPT["vocab_size"], (GPT_BATCH, GPT["block_size"]))

        def loss_fn():
            return model(idx, targets)[1]

    optimizer = AdamW(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()

    return step


# ------------------------------------------------------------------------------ torch side
def torch_step(model_name: str):
    torch.manual_seed(0)
    if model_name == "mlp":
        layers = []
        for i, (a, b) in enumerate(itertools.pairwise(MLP_SIZES)):
            layers.append(tnn.Linear(a, b))
            if i < len(MLP_SIZES) - 2:
                layers.append(tnn.ReLU())
        model = tnn.Sequential(*layers)
        x = torch.randn(MLP_BATCH, MLP_SIZES[0])
        y = torch.randint(0, MLP_SIZES[-1], (MLP_BATCH,))

        def loss_fn():
            return TF.cross_entropy(model(x), y)
    else:
        model = TorchGPT(**GPT)
        idx = torch.randint(0, GPT["vocab_size"], (GPT_BATCH, GPT["block_size"]))
        targets = torch.randint(0, GPT["vocab_size"], (GPT_BATCH, GPT["block_size"]))

        def loss_fn():
            logits = model(idx)
            return TF.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()

    return step


class TorchBlock(tnn.Module):
    """A pre-LN transformer block in PyTorch: the anchor's twin of the engine's ``Block``."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.ln_1, self.ln_2 = tnn.LayerNorm(n_embd), tnn.LayerNorm(n_embd)
        self.c_attn = tnn.Linear(n_embd, 3 * n_embd)
        self.c_proj = tnn.Linear(n_embd, n_embd)
        self.c_fc = tnn.Linear(n_embd, 4 * n_embd)
        self.mlp_proj = tnn.Linear(4 * n_embd, n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)  # (B, T, C) each
        q, k, v = (
            t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v)
        )  # (B, nh, T, hs)
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C)
        return x + self.mlp_proj(TF.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class TorchGPT(tnn.Module):
    """nanoGPT's layout in PyTorch: token + position embeddings, pre-LN blocks, tied head."""

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout=0.0) -> None:
        super().__init__()
        self.wte = tnn.Embedding(vocab_size, n_embd)
        self.wpe = tnn.Embedding(block_size, n_embd)
        self.h = tnn.ModuleList(TorchBlock(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = tnn.LayerNorm(n_embd)
        self.lm_head = tnn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))  # (B, T, C)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))  # (B, T, V)


# ------------------------------------------------------------------------------- driver
def worker(framework: str, model_name: str, steps: int) -> None:
    from genailab.engine import tune_allocator

    # Both frameworks run with glibc keeping freed memory (see tune_allocator): the same
    # process-wide setting for each, so neither pays page faults the other does not.
    if os.environ.get("BENCH_TUNE_ALLOCATOR") == "1":
        tune_allocator()
    if framework == "torch":
        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
        make = torch_step
    else:
        import genailab.engine.nn  # noqa: F401 - imports count in the baseline, not the step

        make = engine_step
    baseline = peak_rss_mb()
    step = make(model_name)
    ms = time_steps(step, steps)
    print(json.dumps({"ms": ms, "peak_mb": peak_rss_mb() - baseline}))


def measure(framework: str, model_name: str, steps: int, threads: int, tune: bool) -> dict:
    env = {
        "BENCH_TUNE_ALLOCATOR": "1" if tune else "0",
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "BENCH_THREADS": str(threads),
    }
    out = subprocess.run(
        [sys.executable, __file__, "--worker", framework, model_name, "--steps", str(steps)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per model")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--default-allocator",
        action="store_true",
        help="leave glibc's allocator as it is (by default both sides run with tune_allocator)",
    )
    parser.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.steps)
        return
    allocator = "glibc defaults" if args.default_allocator else "tune_allocator() on both sides"
    print(
        f"engine benchmark: float32, {args.threads} threads, median of {args.steps} steps "
        f"(forward + backward + AdamW), {allocator}"
    )
    print(
        f"{'model':<34}{'engine ms':>10}{'torch ms':>10}{'ratio':>7}"
        f"{'engine MB':>11}{'torch MB':>10}{'ratio':>7}"
    )
    labels = {"mlp": "MLP 784-256-256-10, batch 128", "gpt": "GPT 4L/4H/128d, T=64, batch 12"}
    for model_name, label in labels.items():
        tune = not args.default_allocator
        ours = measure("engine", model_name, args.steps, args.threads, tune)
        anchor = measure("torch", model_name, args.steps, args.threads, tune)
        time_ratio = ours["ms"] / anchor["ms"]
        mem_ratio = ours["peak_mb"] / max(anchor["peak_mb"], 1e-9)
        print(
            f"{label:<34}{ours['ms']:>10.2f}{anchor['ms']:>10.2f}{time_ratio:>7.2f}"
            f"{ours['peak_mb']:>11.1f}{anchor['peak_mb']:>10.1f}{mem_ratio:>7.2f}"
        )
    print("goal: time ratio <= 1.5, memory ratio <= 2")


if __name__ == "__main__":
    main()
