"""The registry: how ``lab`` finds experiments without importing any of them.

An experiment is a module of :mod:`genailab.experiments` whose config dataclass carries the
:func:`experiment` decorator, next to two functions::

    def frames(cfg: Config) -> Iterator[Frame]: ...   # computes; yields plain data
    def draw(frame: Frame, canvas: Canvas) -> None: ... # pixels only; no computation

The module docstring is the one-paragraph explanation that the gallery shows.

Discovery reads each module's source with :mod:`ast`: the decorator's arguments (which must be
literals) and the docstring. Listing the experiments therefore imports none of them, and none
of torch, numba or pandas that they use; a module is imported only when its experiment is run
or described (:attr:`Experiment.module`), and then the decorator, run for real, must agree with
what was read. There is no global mutable registry to keep in sync.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from genailab.errors import UnknownNameError, suggest
from genailab.lab.chapters import CHAPTERS
from genailab.lab.claims import Claim
from genailab.lab.config import build_config, check_config_class
from genailab.settings import checked, describe_settings

PACKAGE = "genailab.experiments"
_MARK = "__genailab_experiment__"
_DEFAULTS = {"fps": 30, "size": (960, 540), "order": 0, "seconds": (40.0, 15.0)}
# What an experiment module holds beside its config: what it computes and draws, how many
# frames it yields, and what its video claims (see genailab.lab.claims).
_NEEDED_FUNCTIONS = ("frames", "draw", "frame_count")
_NEEDED_TEXTS = ("QUESTION", "ANSWER")
_DECLARED_CLASS = re.compile(r"^@experiment\(.*?^class \w+[^\n]*:[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its metadata as declared, and its module once imported."""

    name: str
    chapter: str
    title: str
    module_name: str
    fps: int
    size: tuple[int, int]
    order: int = 0
    seconds: tuple[float, float] = _DEFAULTS["seconds"]
    explanation: str = ""

    @cached_property
    def module(self) -> ModuleType:
        """The experiment's module, imported on first use; its decorator must match."""
        module = importlib.import_module(self.module_name)
        meta = getattr(_marked_class(module, self.name), _MARK)
        keys = ("name", "chapter", "title", "fps", "size", "order", "seconds")
        if {k: meta[k] for k in keys} != {k: getattr(self, k) for k in keys}:
            raise TypeError(f"{self.name}: the decorator of {self.module_name} changed on import")
        check_module(module, self.name)
        return module

    @cached_property
    def config_class(self) -> type:
        """The experiment's config dataclass (imports the module)."""
        return _marked_class(self.module, self.name)

    @property
    def frames(self) -> Callable[[Any], Iterator[Any]]:
        """The module's ``frames(cfg)`` generator function."""
        return self.module.frames

    @property
    def draw(self) -> Callable[[Any, Any], None]:
        """The module's ``draw(frame, canvas)`` function."""
        return self.module.draw

    @property
    def frame_count(self) -> Callable[[Any], int]:
        """The module's ``frame_count(cfg)``: how many frames ``frames(cfg)`` yields, which
        sizes the progress bar and spreads the video's length over the frames."""
        return self.module.frame_count

    @property
    def question(self) -> str:
        """The question the video answers (its opening card)."""
        return self.module.QUESTION

    @property
    def answer(self) -> str:
        """The template of the measured answer (its closing card), filled from final figures."""
        return self.module.ANSWER

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The headline claims, checked on the final figures of every run."""
        return tuple(self.module.CLAIMS)

    def target_seconds(self, quick: bool) -> float:
        """How long the data frames of the preset should last (the cards come on top)."""
        return float(self.seconds[1] if quick else self.seconds[0])

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
    fps: int = _DEFAULTS["fps"],
    size: tuple[int, int] = _DEFAULTS["size"],
    order: int = _DEFAULTS["order"],
    seconds: tuple[float, float] = _DEFAULTS["seconds"],
) -> Callable[[type], type]:
    """Class decorator that marks an experiment's config dataclass.

    Apply it above ``@dataclass``; every argument must be a literal, since discovery reads them
    from the source. ``fps`` and ``size`` are the video's defaults; ``order`` is its place
    within the chapter (a rung of a ladder), ties broken by name; ``seconds`` is how long the
    data frames of the full and of the quick preset last on screen (the runner spreads it
    over the frames; the opening and closing cards come on top). The config's fields are
    checked (types, the bounds of each :func:`~genailab.settings.setting`, then its own
    ``__post_init__``) every time one is built, with messages that start with ``name``.
    """
    if chapter not in CHAPTERS:
        raise ValueError(f"{name}: unknown chapter '{chapter}' (accepted: {', '.join(CHAPTERS)})")

    def mark(cls: type) -> type:
        checked(cls, where=name)
        check_config_class(name, cls)
        meta = {"name": name, "chapter": chapter, "title": title, "fps": fps, "order": order}
        setattr(cls, _MARK, {**meta, "size": tuple(size), "seconds": _seconds(name, seconds)})
        return cls

    return mark


def _seconds(name: str, seconds: Any) -> tuple[float, float]:
    """``(full, quick)`` lengths in seconds, both positive."""
    ok = isinstance(seconds, tuple | list) and len(seconds) == 2
    if not ok or not all(isinstance(s, int | float) and 0 < s <= 3600 for s in seconds):
        raise ValueError(f"{name}: seconds must be (full, quick), each in (0, 3600], not {seconds}")
    return (float(seconds[0]), float(seconds[1]))


def check_module(module: Any, name: str) -> None:
    """Refuse an experiment module that lacks a part of the protocol, naming it."""
    where = getattr(module, "__name__", name)
    for needed in _NEEDED_FUNCTIONS:
        if not callable(getattr(module, needed, None)):
            raise TypeError(f"{name}: module {where} lacks {needed}()")
    for needed in _NEEDED_TEXTS:
        text = getattr(module, needed, None)
        if not isinstance(text, str) or not text.strip():
            raise TypeError(f"{name}: module {where} lacks {needed}, a non-empty string")
    claims = getattr(module, "CLAIMS", None)
    if not isinstance(claims, tuple | list) or not claims:
        raise TypeError(f"{name}: module {where} lacks CLAIMS, a tuple of at least one Claim")
    if not all(isinstance(claim, Claim) for claim in claims):
        raise TypeError(f"{name}: every entry of {where}.CLAIMS must be a Claim")


def _marked_class(module: ModuleType, name: str) -> type:
    for obj in vars(module).values():
        meta = getattr(obj, _MARK, None) if isinstance(obj, type) else None
        if meta is not None and obj.__module__ == module.__name__ and meta["name"] == name:
            return obj
    raise TypeError(f"{name}: module {module.__name__} has no @experiment(name='{name}') class")


# --------------------------------------------------------------------------- discovery
def _package_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise TypeError(f"{PACKAGE} is not an importable package")
    return Path(next(iter(spec.submodule_search_locations)))


def read_declarations(path: Path) -> list[dict[str, Any]]:
    """The ``@experiment(...)`` arguments of each class in the module file ``path``, and the
    module docstring, read with :mod:`ast` (nothing is imported)."""
    source = path.read_text(encoding="utf-8")
    # Parse only the head of the file, up to the last decorated class line: the docstring and
    # the declarations are there, and the rest (hundreds of lines) would triple the cost.
    heads = list(_DECLARED_CLASS.finditer(source))
    if not heads:
        return []
    tree = ast.parse(source[: heads[-1].end()] + "\n    pass\n", filename=str(path))
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            if call is None or getattr(call.func, "id", None) != "experiment":
                continue
            meta = dict(_DEFAULTS)
            for keyword in call.keywords:
                try:
                    meta[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    raise TypeError(
                        f"{path.name}:{keyword.value.lineno}: @experiment({keyword.arg}=...) "
                        "must be a literal, since discovery reads it without importing"
                    ) from None
            meta["size"] = tuple(meta["size"])
            meta["seconds"] = tuple(float(s) for s in meta["seconds"])
            meta["explanation"] = _unwrap(ast.get_docstring(tree) or "")
            found.append(meta)
    return found


def _unwrap(doc: str) -> str:
    """The docstring's paragraphs, each on one line: the text the gallery shows."""
    paragraphs = [" ".join(p.split()) for p in inspect.cleandoc(doc).split("\n\n") if p.strip()]
    return "\n\n".join(paragraphs)


def discover() -> dict[str, Experiment]:
    """Every experiment of :mod:`genailab.experiments` by name, read without importing them,
    in chapter order, then by their order within the chapter, then by name."""
    found: dict[str, Experiment] = {}
    for path in sorted(_package_folder().glob("*.py")):
        if path.name.startswith("_"):
            continue
        for meta in read_declarations(path):
            if meta["chapter"] not in CHAPTERS:
                raise TypeError(f"{path.name}: unknown chapter '{meta['chapter']}'")
            if meta["name"] in found:
                raise TypeError(f"two experiments are named '{meta['name']}'")
            found[meta["name"]] = Experiment(module_name=f"{PACKAGE}.{path.stem}", **meta)
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


def list_experiments() -> dict[str, str]:
    """Name -> one-line title of every registered experiment, in gallery order.

    Examples
    --------
    >>> list_experiments()["gradient-descent"]
    'Gradient descent without a learning rate'
    """
    return {name: e.title for name, e in discover().items()}


def describe(name: str) -> dict[str, Any]:
    """An experiment and every key of its config as plain data (what ``--help`` prints and a
    form can be built from): name, title, chapter, explanation, fps, size, and ``settings``,
    one dict per key with its type, default, quick-preset value, bounds and help.

    Examples
    --------
    >>> info = describe("gradient-descent")
    >>> points = next(s for s in info["settings"] if s["key"] == "points")
    >>> points["type"], points["default"], points["quick"], points["bounds"]
    ('int', 100, 30, {'ge': 1, 'le': 100000})
    """
    exp = get(name)
    cls = exp.config_class
    return {
        "name": exp.name,
        "title": exp.title,
        "chapter": exp.chapter,
        "explanation": exp.explanation,
        "fps": exp.fps,
        "size": list(exp.size),
        "settings": describe_settings(cls, {"quick": cls.QUICK}),
    }
