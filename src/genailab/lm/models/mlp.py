"""The MLP language model: the next character from the embeddings of the previous few.

Bengio, Ducharme, Vincent & Jauvin, "A Neural Probabilistic Language Model" (JMLR 2003):
each of the last ``n = context`` tokens is looked up in a shared embedding table, the ``n``
vectors are concatenated, a tanh hidden layer mixes them, and a linear layer gives the
next-token logits,

    logits_t = W tanh(H [e(x[t-n+1]); ...; e(x[t])] + d) + b.

Unlike a count table, similar characters get similar vectors, so what is learned about one
context carries over to the contexts that resemble it. Karpathy's makemore (part 2) is the
same model. To score every position of a window at once, the ids are left-padded with
``n - 1`` copies of an extra "before the start" token; the window ending at ``t`` then holds
``idx[:, t-n+1 : t+1]``, and nothing after ``t``, so the model is causal.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genailab.lm.models.base import LanguageModel, check_float, check_int


@dataclass
class MLPConfig:
    """Sizes of an MLP language model.

    Parameters
    ----------
    vocab_size : int
        Number of tokens, V.
    block_size : int
        Longest sequence accepted.
    context : int
        Tokens the model looks at, the current one included (Bengio's n - 1).
    n_embd : int
        Width of each token's embedding.
    n_hidden : int
        Width of each tanh hidden layer.
    n_layer : int
        Number of hidden layers.
    dropout : float
        Dropout after each hidden layer.

    Examples
    --------
    >>> MLPConfig(dropout=1.5)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: MLPConfig.dropout must be a number in [0.0, 1.0), got 1.5
    """

    vocab_size: int = 65
    block_size: int = 64
    context: int = 8
    n_embd: int = 24
    n_hidden: int = 256
    n_layer: int = 1
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "context", "n_embd", "n_hidden", "n_layer"):
            check_int(self, name)
        check_float(self, "dropout", 0.0, 1.0)


class MLPModel(LanguageModel):
    """Concatenated embeddings of the last ``context`` tokens -> tanh MLP -> logits.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = MLPModel(MLPConfig(vocab_size=5, context=3, n_embd=4, n_hidden=8))
    >>> model(torch.tensor([[1, 2, 3, 4]])).shape  # (B, T, V)
    torch.Size([1, 4, 5])
    >>> model.num_parameters()  # (5+1)*4 + (12*8 + 8) + (8*5 + 5)
    173
    """

    name = "mlp"
    config_class = MLPConfig

    def __init__(self, config: MLPConfig) -> None:
        super().__init__(config)
        n, E, H = config.context, config.n_embd, config.n_hidden
        self.wte = nn.Embedding(config.vocab_size + 1, E)  # the extra last row: before the start
        layers: list[nn.Module] = []
        for i in range(config.n_layer):
            layers += [nn.Linear(n * E if i == 0 else H, H), nn.Tanh(), nn.Dropout(config.dropout)]
        self.hidden = nn.Sequential(*layers)
        self.lm_head = nn.Linear(H, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, _ = self.check_input(idx)
        n = self.config.context
        start = idx.new_full((B, n - 1), self.config.vocab_size)  # (B, n-1) padding id
        padded = torch.cat([start, idx], dim=1)  # (B, T+n-1)
        windows = padded.unfold(1, n, 1)  # (B, T, n) window t = padded[t : t+n]
        x = self.wte(windows).flatten(2)  # (B, T, n*E) embeddings side by side
        return self.lm_head(self.hidden(x))  # (B, T, V)
