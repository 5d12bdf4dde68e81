"""The convolutional language model: causal dilated convolutions over embedded characters.

van den Oord et al., "WaveNet: A Generative Model for Raw Audio" (arXiv:1609.03499, 2016),
applied to characters instead of audio samples. A causal convolution of kernel size ``k``
and dilation ``d`` reads positions ``t, t-d, ..., t-(k-1)d``: padding ``(k-1)d`` zeros on the
left only keeps the future out. Stacking layers with dilations ``1, 2, 4, ...`` doubles the
reach with each layer, so ``L`` layers see a receptive field of

    R = 1 + (k - 1)(2^L - 1)

tokens (64 for k = 2, L = 6) for a cost linear in ``L``. Each layer is WaveNet's gated
residual block: ``z = tanh(W_f * x) . sigmoid(W_g * x)``, a 1x1 convolution of ``z`` added
back to ``x`` (the residual) and another one summed into the skip connections, which a
ReLU-1x1-ReLU-1x1 head turns into logits. Karpathy's makemore (part 5) builds the same
hierarchy with a tree of linear layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genailab.lm.models.base import LanguageModel, check_float, check_int


@dataclass
class CNNConfig:
    """Sizes of a WaveNet-style language model.

    Parameters
    ----------
    vocab_size : int
        Number of tokens, V.
    block_size : int
        Longest sequence accepted.
    n_embd : int
        Channels C of the embeddings, the residual stream and the skip connections.
    n_layer : int
        Gated residual blocks, with dilations ``kernel_size ** i`` for ``i < n_layer``.
    kernel_size : int
        Taps of each dilated convolution (>= 2).
    dropout : float
        Dropout on each block's gated activations.

    Examples
    --------
    >>> CNNConfig(kernel_size=1)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: CNNConfig.kernel_size must be an integer >= 2, got 1
    """

    vocab_size: int = 65
    block_size: int = 64
    n_embd: int = 64
    n_layer: int = 6
    kernel_size: int = 2
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_embd", "n_layer"):
            check_int(self, name)
        check_int(self, "kernel_size", low=2)
        check_float(self, "dropout", 0.0, 1.0)


class GatedResidualBlock(nn.Module):
    """``x + W_r z`` and ``W_s z`` with ``z = tanh(filter) * sigmoid(gate)``, causal."""

    def __init__(self, C: int, kernel_size: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.left = (kernel_size - 1) * dilation  # zeros padded on the left: no future
        self.conv = nn.Conv1d(C, 2 * C, kernel_size, dilation=dilation)  # filter and gate
        self.res = nn.Conv1d(C, C, 1)
        self.skip = nn.Conv1d(C, C, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.conv(F.pad(x, (self.left, 0)))  # (B, 2C, T)
        f, g = h.chunk(2, dim=1)  # (B, C, T) each
        z = self.dropout(torch.tanh(f) * torch.sigmoid(g))  # (B, C, T)
        return x + self.res(z), self.skip(z)  # (B, C, T), (B, C, T)


class CNNModel(LanguageModel):
    """Embeddings -> gated dilated causal convolutions -> skip sum -> logits.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = CNNModel(CNNConfig(vocab_size=5, n_embd=8, n_layer=3))
    >>> model.receptive_field  # 1 + (2 - 1) * (1 + 2 + 4)
    8
    >>> model(torch.tensor([[1, 2, 3, 4]])).shape  # (B, T, V)
    torch.Size([1, 4, 5])
    """

    name = "cnn"
    config_class = CNNConfig

    def __init__(self, config: CNNConfig) -> None:
        super().__init__(config)
        C, k = config.n_embd, config.kernel_size
        self.wte = nn.Embedding(config.vocab_size, C)
        self.blocks = nn.ModuleList(
            GatedResidualBlock(C, k, k**i, config.dropout) for i in range(config.n_layer)
        )
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv1d(C, C, 1), nn.ReLU(), nn.Conv1d(C, config.vocab_size, 1)
        )

    @property
    def receptive_field(self) -> int:
        """Tokens that the logits at one position can see, that position included."""
        return 1 + sum(block.left for block in self.blocks)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        self.check_input(idx)
        x = self.wte(idx).transpose(1, 2)  # (B, C, T) channels first, as Conv1d wants
        skips = torch.zeros_like(x)  # (B, C, T)
        for block in self.blocks:
            x, s = block(x)  # (B, C, T), (B, C, T)
            skips = skips + s  # (B, C, T)
        return self.head(skips).transpose(1, 2)  # (B, T, V)
