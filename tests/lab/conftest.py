"""Two tiny experiments the lab tests register beside the real ones: every value inside their
bounds renders in milliseconds, so tests (and generated command lines) can use any of them.

``tiny`` runs on numpy and has every kind of key; ``tiny-torch`` has a ``device`` key, as the
torch experiments do. Both paint ``canvas.pixels`` (no matplotlib) and declare
``memory_bytes``; ``tiny`` can be told to fail in the middle of its frames.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytest

from genailab.lab import cli, registry
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import Experiment, experiment
from genailab.settings import seed_setting, setting


@experiment(
    name="tiny",
    chapter="GenAI fundamentals",
    title="A tiny test experiment",
    fps=10,
    seconds=(2.0, 1.0),
)
@dataclass
class TinyConfig:
    steps: int = setting(4, help="frames after the first", ge=1, le=50)
    level: float = setting(0.5, help="grey level of the background", ge=0.0, le=1.0)
    invert: bool = setting(False, help="swap dark and light")
    shape: Literal["square", "bar"] = setting("square", help="what moves")
    label: str = setting("t", help="a label kept in the summary")
    fail_at: int = setting(-1, help="raise in frames() at this step; -1 never", ge=-1, le=50)
    megabytes: int = setting(0, help="memory it claims to need", ge=0, le=10**9)
    seed: int = seed_setting()
    QUICK = dict(steps=2)


@experiment(
    name="tiny-torch",
    chapter="GenAI fundamentals",
    title="A tiny torch experiment",
    fps=10,
    seconds=(1.0, 1.0),
)
@dataclass
class TinyTorchConfig:
    steps: int = setting(2, help="frames after the first", ge=1, le=50)
    device: Literal["auto", "cpu", "cuda", "mps"] = setting("cpu", help="torch device")
    seed: int = seed_setting()
    QUICK = dict(steps=1)


def tiny_frames(cfg) -> Iterator[Frame]:
    rng = np.random.default_rng(cfg.seed)
    noise = rng.normal(size=cfg.steps + 1)
    for t in range(cfg.steps + 1):
        if t == getattr(cfg, "fail_at", -1):
            raise RuntimeError(f"tiny: failed on purpose at step {t}")
        yield Frame(
            step=t,
            scalars={"x": float(noise[: t + 1].sum()), "steps": t},
            caption="the square sets off" if t < 2 else "the square keeps going",
            poster=t == 1,
        )


def tiny_frame_count(cfg) -> int:
    return cfg.steps + 1


def tiny_draw(frame: Frame, canvas) -> None:
    canvas.clear()
    h, w = canvas.pixels.shape[:2]
    x = (frame.step * 7) % max(1, w - 8)
    canvas.pixels[h // 3 : h // 3 + 8, x : x + 8] = (20 * frame.step % 255, 90, 160)


def tiny_experiments() -> dict[str, Experiment]:
    """The two tiny experiments, as registry entries whose modules are already in hand."""
    found = {}
    for cls, memory in ((TinyConfig, lambda cfg: cfg.megabytes * 2**20), (TinyTorchConfig, None)):
        meta = getattr(cls, registry._MARK)
        exp = Experiment(module_name=f"tests.{meta['name']}", explanation="Tiny. " * 3, **meta)
        module = types.SimpleNamespace(
            frames=tiny_frames,
            draw=tiny_draw,
            frame_count=tiny_frame_count,
            QUESTION="Where does the square go?",
            ANSWER="It moved {steps} steps and ended at x = {x:.2f}",
            CLAIMS=(Claim("steps >= 1", "the square moves at least once"),),
        )
        if memory is not None:
            module.memory_bytes = memory
        exp.__dict__["module"] = module  # Experiment.module is a cached_property: preset it
        exp.__dict__["config_class"] = cls
        found[exp.name] = exp
    return found


def install_tiny_experiments(patch: pytest.MonkeyPatch) -> None:
    """Make ``registry.discover`` (and the CLI's copy of it) list the tiny experiments too."""
    real = registry.discover
    everything = {**real(), **tiny_experiments()}
    patch.setattr(registry, "discover", lambda: everything)
    patch.setattr(cli, "discover", lambda: everything)


@pytest.fixture
def with_tiny_experiments(monkeypatch):
    install_tiny_experiments(monkeypatch)


@pytest.fixture(scope="module")
def tiny_registry():
    """The tiny experiments registered for a whole module (what a hypothesis test needs)."""
    with pytest.MonkeyPatch.context() as patch:
        install_tiny_experiments(patch)
        yield
