"""The chapters of the laboratory, in the order of the mission, each with its introduction.

The gallery shows the chapters in this order, each under its introduction; ``genailab tour
--chapter NAME`` renders one of them, named by its title or its slug.
"""

from __future__ import annotations

import re

from genailab.errors import UnknownNameError, suggest

INTRODUCTIONS = {
    "From zero to GPT": (
        "From a perceptron that learns which switch lights which lamp to a GPT that writes "
        "poems about cats: each rung adds one idea (search, gradients, depth, regularization, "
        "a language model, attention), measured on data small enough to watch."
    ),
    "Features, embeddings, losses": (
        "What a model's numbers mean: colours, words and images as points in a space where "
        "distance is similarity, and how the loss that trains them shapes that space."
    ),
    "Inside a CNN": (
        "A convolutional network opened up: the kernels it learns, what each layer responds "
        "to, and the images that excite its units most."
    ),
    "Granville's data videos": (
        "After Vincent Granville's one-minute data videos: methods with little or no calculus "
        "(gradient descent on a grid, resampling past the observed range, probabilistic "
        "search, bitmap classification, a universe with negative masses), shown step by step."
    ),
    "GenAI fundamentals": (
        "The ideas every generative model rests on: learning with and without labels, fitting "
        "too little and too much, tuning, metrics, probabilistic models, autoencoders, GANs."
    ),
}
CHAPTERS = tuple(INTRODUCTIONS)


def slug(chapter: str) -> str:
    """The chapter's name for a command line.

    Examples
    --------
    >>> slug("Granville's data videos"), slug("Features, embeddings, losses")
    ('granvilles-data-videos', 'features-embeddings-losses')
    """
    return re.sub(r"[^a-z0-9]+", "-", chapter.lower().replace("'", "")).strip("-")


def find_chapter(name: str) -> str:
    """The chapter called ``name`` (its title, any case, or its slug); an unknown name raises
    :class:`UnknownNameError` listing the slugs.

    Examples
    --------
    >>> find_chapter("from-zero-to-gpt"), find_chapter("inside a cnn")
    ('From zero to GPT', 'Inside a CNN')
    """
    by_slug = {slug(chapter): chapter for chapter in CHAPTERS}
    key = slug(name)
    if key not in by_slug:
        raise UnknownNameError(
            f"unknown chapter '{name}'{suggest(key, by_slug)} (accepted: {', '.join(by_slug)})"
        )
    return by_slug[key]
