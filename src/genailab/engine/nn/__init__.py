"""Neural-network modules for the engine, with PyTorch's names, arguments and layouts.

- :mod:`~genailab.engine.nn.module` -- :class:`Module` (parameters, state_dict, train/eval)
  and the containers :class:`Sequential`, :class:`ModuleList`, :class:`ModuleDict`;
- :mod:`~genailab.engine.nn.layers` -- :class:`Linear`, :class:`Embedding`,
  :class:`LayerNorm`, :class:`Dropout`, :class:`MLP`, :class:`Conv1d`, :class:`Conv2d`;
- :mod:`~genailab.engine.nn.recurrent` -- :class:`LSTM`;
- :mod:`~genailab.engine.nn.gpt` -- :class:`GPT` and its parts, nanoGPT's layout.

A torch twin of any of these (``torch.nn.Linear``, ..., a nanoGPT) has the same parameter
names and shapes, so ``engine_module.load_state_dict(torch_module.state_dict())`` copies its
weights over (and ``torch.from_numpy`` goes the other way).

Examples
--------
>>> import numpy as np
>>> from genailab.engine import nn
>>> from genailab.engine.tensor import Tensor
>>> net = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Linear(8, 1, rng=1))
>>> loss = (net(Tensor(np.ones((4, 2), dtype=np.float32))) ** 2).mean()
>>> loss.backward()
>>> [p.grad.shape for p in net.parameters()]
[(8, 2), (8,), (1, 8), (1,)]
"""

from genailab.engine.nn.gpt import GPT, Block, CausalSelfAttention, FeedForward, GPTConfig
from genailab.engine.nn.layers import MLP, Conv1d, Conv2d, Dropout, Embedding, LayerNorm, Linear
from genailab.engine.nn.module import Module, ModuleDict, ModuleList, Sequential
from genailab.engine.nn.recurrent import LSTM

__all__ = [
    "GPT",
    "LSTM",
    "MLP",
    "Block",
    "CausalSelfAttention",
    "Conv1d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "FeedForward",
    "GPTConfig",
    "LayerNorm",
    "Linear",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Sequential",
]
