"""The registry: how ``lab`` finds experiments without importing any of them by name.

An experiment is a module of :mod:`genailab.experiments` whose config dataclass carries the
:func:`experiment` decorator, next to two functions::

    def frames(cfg: Config) -> Iterator[Frame]: ...   # computes; yields plain data
    def draw(frame: Frame, canvas: Canvas) -> None: ... # pixels only; no computation

The module docstring is the one-paragraph explanation that the gallery shows. Discovery walks
the package once per call; there is no global mutable registry to keep in sync.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from genailab.errors import UnknownNameError, suggest
from genailab.lab.config import build_config, check_config_class

CHAPTERS = (
    "From zero to GPT",
    "Granville's data videos",
    "Features, embeddings, losses",
    "Inside a CNN",
    "GenAI fundamentals",
)
_MARK = "__genailab_experiment__"


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its metadata, config class and module."""

    name: str
    chapter: str
    title: str
    config_class: type
    module: ModuleType
    fps: int
    size: tuple[int, int]
    order: int = 0

    @property
    def frames(self) -> Callable[[Any], Iterator[Any]]:
        """The module's ``frames(cfg)`` generator function."""
        return self.module.frames

    @property
    def draw(self) -> Callable[[Any, Any], None]:
        """The module's ``draw(frame, canvas)`` function."""
        return self.module.draw

    @property
    def explanation(self) -> str:
        """The module docstring, paragraphs unwrapped: the text the gallery shows."""
        doc = inspect.getdoc(self.module) or ""
        paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
        return "\n\n".join(paragraphs)

    @property
    def frame_count(self) -> Callable[[Any], int] | None:
        """Optional ``frame_count(cfg)`` of the module, used to size the progress bar."""
        return getattr(self.module, "frame_count", None)

    def config(
        self,
        *,
        quick: bool = False,
        overrides: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> Any:
        """Build and validate this experiment's config (see :func:`build_config`)."""
        return build_config(
            self.name, self.config_class, quick=quick, overrides=overrides, seed=seed
        )


def experiment(
    *,
    name: str,
    chapter: str,
    title: str,
    fps: int = 30,
    size: tuple[int, int] = (960, 540),
    order: int = 0,
) -> Callable[[type], type]:
    """Class decorator that marks an experiment's config dataclass.

    Apply it above ``@dataclass``. ``fps`` and ``size`` are the video's defaults; ``order`` is
    its place within the chapter (a rung of a ladder), ties broken by name.
    """
    if chapter not in CHAPTERS:
        raise ValueError(f"{name}: unknown chapter '{chapter}' (accepted: {', '.join(CHAPTERS)})")

    def mark(cls: type) -> type:
        check_config_class(name, cls)
        setattr(
            cls,
            _MARK,
            {
                "name": name,
                "chapter": chapter,
                "title": title,
                "fps": fps,
                "size": tuple(size),
                "order": order,
            },
        )
        return cls

    return mark


def discover() -> dict[str, Experiment]:
    """Import every module of :mod:`genailab.experiments` and return its experiments by name,
    in chapter order, then by their order within the chapter, then by name."""
    import genailab.experiments as package

    found: dict[str, Experiment] = {}
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            meta = getattr(obj, _MARK, None) if isinstance(obj, type) else None
            if meta is None or obj.__module__ != module.__name__:
                continue
            for needed in ("frames", "draw"):
                if not callable(getattr(module, needed, None)):
                    raise TypeError(f"{meta['name']}: module {module.__name__} lacks {needed}()")
            if meta["name"] in found:
                raise TypeError(f"two experiments are named '{meta['name']}'")
            found[meta["name"]] = Experiment(config_class=obj, module=module, **meta)
    ranked = sorted(found.values(), key=lambda e: (CHAPTERS.index(e.chapter), e.order, e.name))
    return {e.name: e for e in ranked}


def get(name: str) -> Experiment:
    """The experiment called ``name``; an unknown name raises :class:`UnknownNameError`.

    Examples
    --------
    >>> get("gradient-descent").chapter
    "Granville's data videos"
    """
    found = discover()
    if name not in found:
        raise UnknownNameError(
            f"unknown experiment '{name}'{suggest(name, found)} (see `genailab list`)"
        )
    return found[name]


def experiments() -> dict[str, str]:
    """Name -> one-line title of every registered experiment, in gallery order.

    Examples
    --------
    >>> experiments()["gradient-descent"]
    'Gradient descent without a learning rate'
    """
    return {name: e.title for name, e in discover().items()}
