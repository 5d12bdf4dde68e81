"""Sampling from a trained language model: ``load(DIR).generate(prompt)``.

A run folder's ``ckpt.pt`` holds the model's config, its weights and its tokenizer, so
:func:`load` rebuilds everything from the file alone. :meth:`TrainedModel.generate` turns
the prompt into ids, lets the model draw one token at a time (softmax of the logits over
``temperature``, optionally restricted to the ``top_k`` most likely tokens; the GPT with a
KV cache) from a ``torch.Generator`` seeded with ``seed``, and turns the ids back into text:
the same checkpoint, prompt and seed always give the same poem.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genailab.errors import GenailabError
from genailab.lm.bpe import BPETokenizer
from genailab.lm.checkpoint import checkpoint_path, load_checkpoint
from genailab.lm.tokenizer import CharTokenizer


class SamplingError(GenailabError, ValueError):
    """A sampling argument out of range (negative length or temperature, top_k below 1)."""


@dataclass
class TrainedModel:
    """A trained model with its tokenizer, ready to write text.

    Attributes
    ----------
    model : genailab.lm.models.LanguageModel
        The network, in eval mode.
    tokenizer : CharTokenizer or BPETokenizer
        The vocabulary it was trained with.
    iter : int
        Optimization steps behind the weights.
    history : list of dict
        The run's evaluations (``iter``, ``train_loss``, ``val_loss``, ``wall_s``).
    path : pathlib.Path
        The checkpoint file.
    """

    model: torch.nn.Module
    tokenizer: CharTokenizer | BPETokenizer
    iter: int
    history: list[dict[str, Any]]
    path: Path

    @property
    def val_loss(self) -> float | None:
        """The last evaluated validation loss, or None."""
        return self.history[-1]["val_loss"] if self.history else None

    def generate(
        self,
        prompt: str = "",
        max_tokens: int = 200,
        temperature: float = 0.8,
        top_k: int | None = None,
        seed: int = 0,
    ) -> str:
        """Continue ``prompt`` with ``max_tokens`` sampled tokens; return prompt + continuation.

        Parameters
        ----------
        prompt : str
            Text to continue. Empty: start from a newline if the vocabulary has one (the
            start of a line of verse), else from the first token of the vocabulary; that
            start token is not part of the returned text.
        max_tokens : int
            Tokens to draw (characters, for a character tokenizer).
        temperature : float
            Divides the logits: below 1 sharper, above 1 more random, 0 greedy.
        top_k : int, optional
            Draw only among the ``top_k`` most likely tokens.
        seed : int
            Seeds the draws: the same seed gives the same text.

        Raises
        ------
        UnknownCharacterError
            If the prompt has characters the vocabulary lacks (the message names them).
        SamplingError
            For a negative ``max_tokens`` or ``temperature``, or ``top_k < 1``.
        """
        from genailab.lm.models.base import check_sampling

        try:
            check_sampling(max_tokens, temperature, top_k)
        except ValueError as err:
            raise SamplingError(str(err).replace("max_new_tokens", "max_tokens")) from None
        ids = self.tokenizer.encode(prompt) if prompt else self._start_ids()
        tensors = itertools.chain(self.model.parameters(), self.model.buffers())
        device = next(tensors).device  # the count bigram has a table (a buffer), no parameters
        idx = torch.as_tensor(ids, dtype=torch.long, device=device)[None, :]  # (1, T0)
        gen = torch.Generator(device=device).manual_seed(seed)
        out = self.model.generate(
            idx, max_tokens, temperature=temperature, top_k=top_k, generator=gen
        )  # (1, T0 + max_tokens)
        return prompt + self.tokenizer.decode(out[0, idx.size(1) :].cpu().numpy())

    def _start_ids(self) -> Any:
        tok = self.tokenizer
        if isinstance(tok, CharTokenizer):
            return tok.encode("\n") if "\n" in tok.chars else tok.encode(tok.chars[0])
        return tok.encode("\n")  # byte-level BPE can encode any text


def load(path: str | os.PathLike[str], device: str = "cpu") -> TrainedModel:
    """Rebuild the model a training run saved: a run folder or its ``ckpt.pt``.

    Parameters
    ----------
    path : str or path-like
        The ``out`` folder of :func:`genailab.lm.train`, or a checkpoint file.
    device : str
        Where to put the model: ``cpu`` (default), ``cuda``, ``mps`` or ``auto``.

    Raises
    ------
    CheckpointError
        For a missing, corrupt or foreign checkpoint (one line naming the file).

    Examples
    --------
    >>> import tempfile
    >>> from genailab.lm import train
    >>> out = tempfile.mkdtemp()
    >>> _ = train("cats", "bigram", preset="tiny", out=out)
    >>> lm = load(out)
    >>> text = lm.generate("The cat", max_tokens=20, seed=1)
    >>> text.startswith("The cat"), len(text), text == lm.generate("The cat", 20, seed=1)
    (True, 27, True)
    """
    from genailab.device import resolve_device
    from genailab.lm.models import model_from_config
    from genailab.lm.tokenizers import tokenizer_from_dict

    ckpt = load_checkpoint(path)
    model = model_from_config(dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["model"])
    model.to(resolve_device(device)).eval()
    return TrainedModel(
        model=model,
        tokenizer=tokenizer_from_dict(ckpt["tokenizer"]),
        iter=int(ckpt["iter"]),
        history=list(ckpt["history"]),
        path=checkpoint_path(path),
    )
