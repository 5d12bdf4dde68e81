"""The interface every language model of :mod:`genailab.lm` shares.

A language model reads token ids ``idx`` of shape ``(B, T)`` and returns, at every position
``t``, the logits of the next token, ``(B, T, V)``. Every model is causal: the logits at ``t``
depend on ``idx[:, : t + 1]`` only, so one forward pass scores all ``T`` next-token guesses
of a training window at once. The rest is shared here: the mean cross-entropy loss, sampling
one token at a time (temperature and top-k), the parameter count, and the config dict that a
checkpoint stores to rebuild the model.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genailab.errors import ConfigError

# ---- config validation, shared by the model configs -------------------------------------------


def check_int(config: Any, name: str, low: int = 1) -> None:
    """Raise :class:`ConfigError` unless ``config.<name>`` is an integer ``>= low``."""
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(
            f"{type(config).__name__}.{name} must be an integer >= {low}, got {value!r}"
        )


def check_float(config: Any, name: str, low: float, high: float, high_open: bool = True) -> None:
    """Raise :class:`ConfigError` unless ``config.<name>`` is a number in ``[low, high)``."""
    value = getattr(config, name)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and low <= value and (value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ConfigError(
            f"{type(config).__name__}.{name} must be a number in [{low}, {high}{bracket}, "
            f"got {value!r}"
        )


def check_bool(config: Any, name: str) -> None:
    """Raise :class:`ConfigError` unless ``config.<name>`` is ``True`` or ``False``."""
    value = getattr(config, name)
    if not isinstance(value, bool):
        raise ConfigError(f"{type(config).__name__}.{name} must be True or False, got {value!r}")


# ---- sampling ----------------------------------------------------------------------------------


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token per row from ``softmax(logits / temperature)``; return ``(B, 1)`` ids.

    ``top_k`` keeps only the ``k`` most likely tokens; ``temperature=0`` takes the most
    likely token (greedy decoding) and draws nothing from ``generator``.

    Examples
    --------
    >>> logits = torch.tensor([[0.0, 5.0, 1.0]])
    >>> sample_next(logits, temperature=0).tolist()
    [[1]]
    >>> sample_next(logits, top_k=1, generator=torch.Generator().manual_seed(0)).tolist()
    [[1]]
    """
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)  # (B, 1)
    logits = logits / temperature  # (B, V)
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1) the k-th largest
        logits = logits.masked_fill(logits < kth, -math.inf)  # (B, V)
    probs = F.softmax(logits, dim=-1)  # (B, V)
    return torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)


def check_sampling(max_new_tokens: int, temperature: float, top_k: int | None) -> None:
    """Raise ``ValueError`` for a negative token count, temperature or a top_k below 1."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int):
        raise ValueError(f"max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    if not (isinstance(temperature, int | float) and math.isfinite(temperature)) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None or an integer >= 1, got {top_k!r}")


# ---- the base class ----------------------------------------------------------------------------


class LanguageModel(nn.Module):
    """Next-token logits ``(B, T, V)`` from token ids ``(B, T)``; the base of every model.

    A subclass sets ``name``, ``config_class`` (a dataclass with at least ``vocab_size`` and
    ``block_size``), builds its layers from ``config`` and implements :meth:`forward`.

    Attributes
    ----------
    config : dataclass
        The sizes the model was built with; :meth:`config_dict` saves it.
    name : str
        The model's name in :data:`~genailab.lm.models.MODELS`.
    count_based : bool
        ``True`` for a model fitted by counting (``fit_counts``) rather than by gradients.
    """

    name: ClassVar[str] = ""
    count_based: ClassVar[bool] = False
    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config = config

    def check_input(self, idx: torch.Tensor, start: int = 0) -> tuple[int, int]:
        """Return ``(B, T)`` of ``idx``, or raise ``ValueError`` if it is not a ``(B, T)``
        batch of ids with ``start + T <= block_size``."""
        if idx.dim() != 2 or idx.dtype not in (torch.int64, torch.int32):
            raise ValueError(
                f"{self.name}: expected integer token ids of shape (B, T), "
                f"got {idx.dtype} of shape {tuple(idx.shape)}"
            )
        B, T = idx.shape
        if start + T > self.config.block_size:
            raise ValueError(
                f"{self.name}: a sequence of length {start + T} is longer than block_size "
                f"{self.config.block_size}; crop the context to its last "
                f"{self.config.block_size} tokens"
            )
        return B, T

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """Logits (B, T, V) of the next token at every position of ``idx`` (B, T)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the next-token logits of ``idx`` (B, T) against ``targets``
        (B, T); a target of -1 is skipped (padding)."""
        logits = self(idx)  # (B, T, V)
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Append ``max_new_tokens`` sampled tokens to ``idx`` (B, T0); return (B, T0 + n).

        Each step runs the model on the last ``block_size`` tokens and samples the next one
        with :func:`sample_next`. The model is put in eval mode for the call (no dropout) and
        back in the mode it was in. The same ``generator`` seed gives the same tokens.
        """
        check_sampling(max_new_tokens, temperature, top_k)
        if idx.dim() != 2 or idx.size(1) < 1:
            raise ValueError(f"idx must be (B, T) with T >= 1, got shape {tuple(idx.shape)}")
        was_training = self.training
        self.eval()
        try:
            for _ in range(max_new_tokens):
                logits = self(idx[:, -self.config.block_size :])  # (B, T, V)
                nxt = sample_next(logits[:, -1, :], temperature, top_k, generator)  # (B, 1)
                idx = torch.cat([idx, nxt], dim=1)  # (B, T + 1)
        finally:
            self.train(was_training)
        return idx

    def num_parameters(self) -> int:
        """Number of trainable numbers, a tied weight counted once."""
        return sum(p.numel() for p in self.parameters())

    def config_dict(self) -> dict[str, Any]:
        """``{"model": name, **config}``: plain JSON-able values that
        :func:`~genailab.lm.models.model_from_config` turns back into this architecture."""
        return {"model": self.name, **dataclasses.asdict(self.config)}

    def optim_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """AdamW groups as in nanoGPT: matrices (ndim >= 2) decay, biases and norms do not."""
        params = [p for p in self.parameters() if p.requires_grad]
        return [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]

    def extra_repr(self) -> str:
        return f"{self.name}, {self.num_parameters():,} parameters"
