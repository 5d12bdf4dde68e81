"""The engine backend of ``lm train``: the same loop, the GPT on genailab's numpy autograd.

``genailab lm train --backend engine`` trains :class:`genailab.engine.nn.GPT` with the engine's
AdamW, clipping and schedule inside :class:`~genailab.lm.train_loop.TorchRun`'s loop: no torch
in a step, numpy batches from a ``numpy.random.Generator``. The model's config is the torch
GPT's own :class:`~genailab.engine.nn.GPTConfig`, rotary positions or learned ones as
``rotary`` says, and the two models are the same function of the same weights
(``tests/engine/test_gpt_equivalence.py``); so the checkpoint, written in the torch GPT's
layout, records what was built, resumes here and samples with :func:`genailab.lm.load`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from genailab.lm.checkpoint import rng_states
from genailab.lm.train_loop import TorchRun


class EngineRun(TorchRun):
    """Train :class:`genailab.engine.nn.GPT` with :class:`genailab.engine.optim.AdamW`.

    No torch in the loop: numpy batches from a ``numpy.random.Generator``, the engine's
    forward, backward, clipping and AdamW. The checkpoint converts the arrays to tensors on
    the way out, in the torch GPT's layout with the same config.
    """

    backend = "engine"

    def _setup(self, device: str) -> None:
        from genailab.engine import tune_allocator
        from genailab.engine.nn import GPT, GPTConfig
        from genailab.engine.optim import AdamW

        cfg = self.cfg  # genailab.lm.train checked the model, the device and the processes
        # The engine's temporaries otherwise page-fault on every step (1.4-1.65x slower, see
        # benchmarks/engine.py); process-wide, which a training run owns.
        tune_allocator()
        self.device = torch.device("cpu")
        self.config = GPTConfig(**{k: v for k, v in self.model_config.items() if k != "model"})
        self.model_rng = np.random.default_rng(self.seed)  # initial weights, then dropout
        self.model = GPT(self.config, rng=self.model_rng)
        self.optimizer = AdamW(
            self.model.optim_groups(cfg.weight_decay), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2)
        )
        self.batches = np.random.default_rng(self.seed)
        self.count_based = False

    def _numpy_batch(self, data: np.ndarray, gen: np.random.Generator) -> tuple[Any, Any]:
        T = self.cfg.block_size
        start = gen.integers(0, len(data) - T, size=self.cfg.batch_size)  # (B,)
        window = data[start[:, None] + np.arange(T + 1)]  # (B, T + 1)
        return window[:, :-1], window[:, 1:]

    def _step(self, lr: float) -> Any:
        from genailab.engine.optim import clip_grad_norm

        self.optimizer.lr = lr
        self.model.train()
        x, y = self._numpy_batch(self.ids["train"], self.batches)
        _, loss = self.model(x, targets=y)
        self.optimizer.zero_grad()
        loss.backward()
        if self.cfg.grad_clip > 0:
            clip_grad_norm(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        return loss

    def _estimate(self) -> dict[str, float]:
        from genailab.engine import no_grad

        self.model.eval()
        out = {}
        with no_grad():
            for name, data in self.ids.items():
                gen = np.random.default_rng(self.seed + 1)
                losses = [
                    self.model(*self._numpy_batch(data, gen))[1].item()
                    for _ in range(self.cfg.eval_iters)
                ]
                out[name] = float(np.mean(losses))
        self.model.train()
        return out

    def _model_state(self) -> dict[str, Any]:
        return {
            "model_config": dict(self.model_config),
            "model": {k: torch.from_numpy(v) for k, v in self.model.state_dict().items()},
            "optimizer": _arrays_to(self.optimizer.state_dict(), torch.from_numpy),
            "rng": {
                **rng_states(),
                "batches": self.batches.bit_generator.state,
                "model": self.model_rng.bit_generator.state,
            },
        }

    def _restore_model(self, ckpt: Mapping[str, Any]) -> None:
        self.model.load_state_dict({k: v.numpy() for k, v in ckpt["model"].items()})
        self.optimizer.load_state_dict(_arrays_to(ckpt["optimizer"], lambda t: t.numpy()))
        self.batches.bit_generator.state = ckpt["rng"]["batches"]
        self.model_rng.bit_generator.state = ckpt["rng"]["model"]

    def _num_parameters(self) -> int:
        return self.model.num_parameters()

    def _torch_model(self) -> torch.nn.Module:
        from genailab.lm.models import model_from_config

        state = self._model_state()
        model = model_from_config(dict(state["model_config"]))
        model.load_state_dict(state["model"])
        return model


def _arrays_to(obj: Any, convert: Any) -> Any:
    """``obj`` with every numpy array (or tensor) inside dicts, lists and tuples converted."""
    if isinstance(obj, np.ndarray | torch.Tensor):
        return convert(obj)
    if isinstance(obj, dict):
        return {k: _arrays_to(v, convert) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_arrays_to(v, convert) for v in obj)
    return obj
