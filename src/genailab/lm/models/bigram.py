"""The bigram model: the next character from the current one alone, by counting pairs.

The oldest character-level language model, Shannon's (1948) second-order approximation of
English: count how often each character ``b`` follows each character ``a`` in the training
text, and predict with the smoothed relative frequency

    P(b | a) = (count(a, b) + alpha) / (count(a, .) + alpha V)

(add-alpha, or Laplace, smoothing keeps an unseen pair possible). The table of these
log-probabilities is the model: its row ``a`` is the next-token logits after ``a``, already
normalized, so its cross-entropy on held-out text is the closed form
``-mean log P(x[t+1] | x[t])``. Nothing is learned by gradient descent; the table is a
parameter all the same, so a gradient-trained bigram (Karpathy's makemore, part 1) is the
same model with another fitting method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from genailab.lm.models.base import LanguageModel, check_float, check_int


@dataclass
class BigramConfig:
    """Sizes of a bigram model.

    Parameters
    ----------
    vocab_size : int
        Number of tokens, V.
    block_size : int
        Longest sequence accepted (the model itself looks one token back).
    alpha : float
        Add-alpha smoothing of the counts; 0 gives raw frequencies (and -inf for unseen pairs).

    Examples
    --------
    >>> BigramConfig(vocab_size=0)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: BigramConfig.vocab_size must be an integer >= 1, got 0
    """

    vocab_size: int = 65
    block_size: int = 64
    alpha: float = 1.0

    def __post_init__(self) -> None:
        check_int(self, "vocab_size")
        check_int(self, "block_size")
        check_float(self, "alpha", 0.0, float("inf"))


class BigramModel(LanguageModel):
    """A table of next-token log-probabilities, one row per current token.

    Examples
    --------
    >>> import numpy as np
    >>> model = BigramModel(BigramConfig(vocab_size=3, alpha=1.0))
    >>> model = model.fit_counts(np.array([0, 1, 0, 1, 2]))
    >>> (model.table[0].exp() * 5).round().tolist()  # after 0: (0+1, 2+1, 0+1) / (2+3)
    [1.0, 3.0, 1.0]
    >>> model(torch.tensor([[0, 1]])).shape  # (B, T, V)
    torch.Size([1, 2, 3])
    """

    name = "bigram"
    count_based = True
    config_class = BigramConfig

    def __init__(self, config: BigramConfig) -> None:
        super().__init__(config)
        V = config.vocab_size
        self.table = nn.Parameter(torch.zeros(V, V))  # (V, V) uniform until fitted

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        self.check_input(idx)
        return self.table[idx]  # (B, T, V) row idx[b, t] of the table

    @torch.no_grad()
    def fit_counts(self, ids: np.ndarray) -> BigramModel:
        """Set the table to the smoothed log-frequencies of the pairs ``(ids[t], ids[t+1])``.

        Parameters
        ----------
        ids : numpy.ndarray
            A 1-D sequence of token ids (the encoded training text).

        Returns
        -------
        BigramModel
            ``self``, with ``counts_`` (V, V) the pair counts.
        """
        ids = np.asarray(ids)
        V = self.config.vocab_size
        if ids.ndim != 1 or ids.size < 2:
            raise ValueError(f"fit_counts needs a 1-D array of >= 2 ids, got shape {ids.shape}")
        if ids.min() < 0 or ids.max() >= V:
            raise ValueError(
                f"fit_counts: ids must lie in [0, {V}), got [{ids.min()}, {ids.max()}]"
            )
        ids = ids.astype(np.int64)
        # one bincount over the flattened pair index a * V + b counts every pair at once
        counts = np.bincount(ids[:-1] * V + ids[1:], minlength=V * V).reshape(V, V)  # (V, V)
        self.counts_ = counts
        alpha = self.config.alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            probs = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * V)  # (V, V)
            # NOTE: a row never seen with alpha = 0 is 0/0; make it uniform rather than NaN
            probs = np.where(np.isfinite(probs), probs, 1.0 / V)
            log_probs = np.log(probs)  # (V, V)
        self.table.copy_(torch.from_numpy(log_probs))
        return self
