"""The LSTM language model: a recurrent state carried from character to character.

Hochreiter & Schmidhuber, "Long Short-Term Memory" (Neural Computation, 1997), with the
forget gate of Gers, Schmidhuber & Cummins (2000), as ``torch.nn.LSTM`` implements it. At each
step the cell state ``c`` is updated additively,

    c_t = f_t * c_{t-1} + i_t * g_t,    h_t = o_t * tanh(c_t),

with the input, forget and output gates ``i, f, o`` and the candidate ``g`` computed from
the current character's embedding and ``h_{t-1}``. The additive path lets gradients reach
far back without vanishing, which is what a plain RNN lacks. A recurrence is causal by
construction: ``h_t`` has only seen ``x_1 ... x_t``. Karpathy's char-rnn (2015) is this model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genailab.lm.models.base import LanguageModel, check_float, check_int


@dataclass
class LSTMConfig:
    """Sizes of an LSTM language model.

    Parameters
    ----------
    vocab_size : int
        Number of tokens, V.
    block_size : int
        Longest sequence accepted (the length of the training windows).
    n_embd : int
        Width of the character embeddings.
    n_hidden : int
        Width of the hidden and cell states.
    n_layer : int
        Stacked LSTM layers.
    dropout : float
        Dropout between stacked layers and before the head.

    Examples
    --------
    >>> LSTMConfig(n_hidden=0)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: LSTMConfig.n_hidden must be an integer >= 1, got 0
    """

    vocab_size: int = 65
    block_size: int = 64
    n_embd: int = 64
    n_hidden: int = 256
    n_layer: int = 1
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_embd", "n_hidden", "n_layer"):
            check_int(self, name)
        check_float(self, "dropout", 0.0, 1.0)


class LSTMModel(LanguageModel):
    """Embedding -> ``torch.nn.LSTM`` (batch first) -> linear head.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = LSTMModel(LSTMConfig(vocab_size=5, n_embd=4, n_hidden=8))
    >>> model(torch.tensor([[1, 2, 3, 4]])).shape  # (B, T, V)
    torch.Size([1, 4, 5])
    """

    name = "lstm"
    config_class = LSTMConfig

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.lstm = nn.LSTM(
            config.n_embd,
            config.n_hidden,
            num_layers=config.n_layer,
            batch_first=True,
            dropout=config.dropout if config.n_layer > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.lm_head = nn.Linear(config.n_hidden, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        self.check_input(idx)
        x = self.wte(idx)  # (B, T, E)
        h, _ = self.lstm(x)  # (B, T, H) the hidden state after each character
        return self.lm_head(self.dropout(h))  # (B, T, V)
