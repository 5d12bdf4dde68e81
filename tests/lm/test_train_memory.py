"""The memory estimate of a training run against what the models really hold.

The parameter count must be exact, for every model and shape. The activations are held to
what autograd really keeps: torch's saved tensors (counted with ``saved_tensors_hooks``) and
the engine's numpy arrays (measured with ``tracemalloc``, which numpy reports to), each within
a stated factor. A request too big for the machine is refused in one line.
"""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest
import torch

from genailab.lm.models import build_model
from genailab.lm.train_memory import (
    STATE_COPIES,
    activation_numbers_per_token,
    describe_request,
    parameter_count,
    training_bytes,
)
from genailab.memory import MemoryNeedError, check_memory

torch.set_num_threads(1)
V = 59  # the cats corpus
FACTOR = (0.5, 3.0)  # the estimate of the activations, against the measured bytes

SHAPES = [
    ("gpt", dict(n_layer=2, n_head=4, n_embd=32, bias=True, rotary=False)),
    ("gpt", dict(n_layer=3, n_head=2, n_embd=16)),
    ("gpt", dict(n_layer=2, n_head=4, n_embd=128, dropout=0.1)),
    ("mlp", dict(context=5, n_embd=6, n_hidden=20, n_layer=3)),
    ("mlp", dict(n_hidden=512)),
    ("cnn", dict(n_embd=12, n_layer=4, kernel_size=3)),
    ("cnn", dict(n_embd=128, n_layer=6)),
    ("lstm", dict(n_embd=10, n_hidden=14, n_layer=2)),
    ("lstm", dict(n_embd=64, n_hidden=256, n_layer=2)),
    ("bigram", {}),
]


def _model(name, sizes):
    torch.manual_seed(0)
    return build_model(name, V, block_size=64, **sizes)


@pytest.mark.parametrize(("name", "sizes"), SHAPES)
def test_the_parameter_count_is_exact(name, sizes):
    model = _model(name, sizes)
    assert parameter_count(name, dataclasses.asdict(model.config)) == model.num_parameters()


def _saved_bytes(model, B, T):
    """Bytes autograd keeps for the backward of one batch (the weights themselves left out)."""
    saved = {}
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}

    def pack(t):
        storage = t.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()  # a storage saved twice counts once
        return t

    idx = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(0))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        logits = model(idx)
        torch.nn.functional.cross_entropy(logits.reshape(-1, V), idx.reshape(-1))
    return sum(n for ptr, n in saved.items() if ptr not in weights)


@pytest.mark.parametrize(("name", "sizes"), SHAPES)
def test_the_activations_are_what_torch_saves_within_a_factor(name, sizes):
    model = _model(name, sizes).train()
    B, T = 32, 64
    measured = _saved_bytes(model, B, T)
    config = dataclasses.asdict(model.config)
    estimate = 4 * B * T * activation_numbers_per_token(name, config, T)
    assert FACTOR[0] * measured <= estimate <= FACTOR[1] * measured, estimate / measured


def test_a_small_model_needs_its_weights_gradients_and_adam_moments():
    """With a tiny batch the estimate is the weights' state: 5 float32 copies (weights,
    gradients, AdamW's two moments, the checkpoint's) of the real parameter count."""
    model = _model("gpt", dict(n_layer=4, n_head=4, n_embd=128))
    real = 4 * model.num_parameters()  # bytes of the float32 weights
    estimate = training_bytes("gpt", dataclasses.asdict(model.config), 1, 8)
    assert STATE_COPIES * real <= estimate <= 1.1 * STATE_COPIES * real


@pytest.mark.parametrize(("C", "L", "B", "T"), [(64, 2, 32, 64), (32, 1, 64, 32)])
def test_the_engine_step_peak_is_the_estimate_within_a_factor(C, L, B, T):
    """What one engine step allocates on top of the weights and moments (which exist before
    it), against the estimate of the activations."""
    from genailab.engine.nn import GPT, GPTConfig
    from genailab.engine.optim import AdamW

    config = GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=4, n_embd=C)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))
    model = GPT(config, rng=0)
    optimizer = AdamW(model.optim_groups(0.1), lr=1e-3)

    def step():
        _, loss = model(x, targets=y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # the moments now exist
    tracemalloc.start()
    try:
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = 4 * B * T * activation_numbers_per_token("gpt", dataclasses.asdict(config), T)
    assert FACTOR[0] * peak <= estimate <= FACTOR[1] * peak, estimate / peak


def test_a_huge_request_is_refused_in_one_line():
    config = dict(vocab_size=V, block_size=1024, n_layer=48, n_head=32, n_embd=8192,
                  bias=False, rotary=True)  # fmt: skip
    need = training_bytes("gpt", config, batch_size=64, block_size=1024)
    assert need > 24 * 2**30
    with pytest.raises(MemoryNeedError) as err:
        check_memory(need, describe_request("gpt", config, 64, 1024), available=24 * 2**30)
    message = str(err.value)
    assert message.startswith("lm train: a gpt of 38.7B parameters with batch_size 64 x ")
    assert message.endswith("of memory; 24.0 GiB is available") and "\n" not in message
