"""A small GPT ({n_layer} transformer blocks, {n_embd} wide, {params:,} weights) learns to write
poems about cats from scratch, one character at a time, from the 40 KB of cat poems shipped with
genailab. At every evaluation the training pauses and the model writes a poem from the same
prompt (orange) with the same random seed, so that only its weights change from one poem to the
next. At step 0 it types noise: each of the 59 characters is about as likely as any other, and
the validation loss is log 59, about 4.08 nats per character. Spaces and line breaks come first,
then short words, then capitals at the start of lines and commas at their ends, until the last
poem after {iters} steps: lines of real words and near-misses, in an order nobody ever wrote. The
figures to watch are the validation loss (right, solid: {val_loss:.2f} at the end; the dashed
curve is the loss on the training text, which on the full preset pulls below it as the model
starts to memorise its 40 KB) and the share of the words the model wrote that are real words,
that is, words found in the training text, which climbs from {real_word_share_first:.0%} of the
first poem to {real_word_share_last:.0%} of the last. The model and the training loop follow
Karpathy's nanoGPT; they are genailab's `genailab.lm`.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from genailab.experiments._lm_training import (
    MAX_ITERS,
    LMTraining,
    batch_size_setting,
    block_size_setting,
    dropout_setting,
    eval_iters_setting,
    gpt_sizes,
    iters_setting,
    lr_setting,
    train_arguments,
    training_memory_bytes,
)
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

FPS = 30
WRAP = 46  # columns of the page; longer lines wrap at a space
PAGE_LINES = 14  # lines of the page; a longer poem is cut there
FIRST_TYPING_SPEEDUP = 3  # the noise of step 0 is typed faster than the final verse
CURSOR = "\u258c"  # the block cursor shown while a poem is being typed
PROMPT_COLOUR = PALETTE[3]
VAL_COLOUR, TRAIN_COLOUR, WORDS_COLOUR = PALETTE[0], PALETTE[1], PALETTE[2]
PAGE_COLOUR = "#f7f5f0"
WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")  # a word: letters, with inner apostrophes (cat's)


@experiment(
    name="cat-poems",
    chapter="From zero to GPT",
    title="A GPT learns to write cat poems, from noise to verse",
    order=9,
    fps=30,  # = FPS, the rate the frame timing below counts in
    # The frames carry their own timing (typing, holds, fades at FPS): seconds a little under
    # frame_count / FPS (802 and 190 frames), so that each frame plays once, as timed.
    seconds=(26, 6),
)
@dataclass
class Config(LMTraining):
    iters: int = iters_setting(900)
    batch_size: int = batch_size_setting(8)
    block_size: int = block_size_setting(128)
    lr: float = lr_setting(5e-3)
    dropout: float = dropout_setting(0.1)  # 40 KB of text: without it the model soon memorises
    eval_iters: int = eval_iters_setting(10)
    prompt: str = setting("The cat ", help="the start of every poem")
    temperature: float = setting(
        0.8, help="sampling temperature: below 1 safer, above 1 wilder, 0 greedy", ge=0, le=10
    )
    max_tokens: int = setting(
        320, help="characters written after the prompt at every checkpoint", ge=1, le=2000
    )
    eval_interval: int = setting(
        75, help="steps between checkpoints: an evaluation and a poem each", ge=10, le=MAX_ITERS
    )
    n_layer: int = setting(3, help="transformer blocks of the GPT", ge=1, le=24)
    n_head: int = setting(4, help="attention heads per block", ge=1, le=32)
    n_embd: int = setting(128, help="width of the GPT (a multiple of n_head)", ge=2, le=1024)
    hold_s: float = setting(1.0, help="seconds each intermediate poem stays on screen", ge=0, le=10)
    fade_s: float = setting(
        0.2, help="seconds of each fade, out of one poem and into the next", ge=0, le=5
    )
    typing_chars_per_s: float = setting(
        60.0, help="typing speed of the last poem (the first is 3 times faster)", ge=10, le=10_000
    )
    final_hold_s: float = setting(
        3.0, help="seconds the last poem stays after it is typed", ge=0, le=60
    )
    # 300 steps at a high learning rate, in ~10 s of CPU: enough that the share of real words
    # climbs as on the full preset (60 steps left it under a tenth). The poems are as long as
    # the full preset's, so that the share counts some 60 words, not 30.
    QUICK = dict(
        iters=300,
        eval_interval=50,
        eval_iters=4,
        n_layer=2,
        n_head=4,
        n_embd=48,
        block_size=64,
        batch_size=8,
        lr=0.01,
        dropout=0.0,
        hold_s=0.5,
        fade_s=0.1,
        typing_chars_per_s=600.0,
        final_hold_s=1.5,
    )

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head or (self.n_embd // self.n_head) % 2:
            raise ValueError(
                f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head}) with an "
                "even head size (rotary positions rotate pairs of channels)"
            )


QUESTION = (
    "How far does a GPT trained from scratch on 40 KB of cat poems get from typing noise to "
    "writing real words?"
)
ANSWER = (
    "After {iters} steps: validation loss {val_loss:.2f} nats per character (from "
    "{val_loss_first:.2f}); real words {real_word_share_first:.0%} of the first poem, "
    "{real_word_share_last:.0%} of the last"
)
CLAIMS = (
    Claim("val_loss < uniform - 1.5", "the validation loss falls from log 59 by over 1.5 nats"),
    Claim(
        "real_word_share_last > real_word_share_first + 0.25",
        "the share of real words rises by more than 25 percentage points",
    ),
    Claim(
        "real_word_share_last >= max(2 * real_word_share_first, 0.35)",
        "over a third of the last poem's words are real, at least twice the first's share",
    ),
)


def caption(checkpoint: int, checkpoints: int) -> str:
    """The message of the stretch a checkpoint (0 to ``checkpoints - 1``) falls in."""
    if checkpoint == 0:
        return "Untrained, the GPT types noise: every character about as likely as any other"
    if checkpoint == checkpoints - 1:
        return "Trained: lines of real words and near-misses, in an order nobody ever wrote"
    if checkpoint <= (checkpoints - 1) / 3:
        return "Spaces and line breaks come first, then short words"
    return "More of what it writes are real words: the poems take the shape of verse"


def training_overrides(cfg: Config) -> dict[str, Any]:
    """The :class:`genailab.lm.TrainConfig` fields of the run: every one the result depends on
    (the shared rules of :func:`~genailab.experiments._lm_training.train_arguments`), so that
    a change to the presets of ``genailab.lm`` does not change the video."""
    return train_settings(cfg)["overrides"]


def train_settings(cfg: Config) -> dict[str, Any]:
    """The arguments of :func:`genailab.lm.train` for this experiment (all but ``out``)."""
    sizes = gpt_sizes(cfg.n_layer, cfg.n_head, cfg.n_embd)
    return train_arguments(cfg, "gpt", sizes, cfg.eval_interval)


def memory_bytes(cfg: Config) -> int:
    """The training; the frames hold only short texts and loss curves beside it."""
    evaluations = math.ceil(cfg.iters / cfg.eval_interval) + 1
    poems = evaluations * 4 * 2 * (len(cfg.prompt) + cfg.max_tokens)  # poem and page, 4 B/char
    sizes = gpt_sizes(cfg.n_layer, cfg.n_head, cfg.n_embd)
    return training_memory_bytes(cfg, "gpt", sizes) + poems + 8 * 4 * evaluations**2


# ------------------------------------------------------------------------------- words
def word_set(text: str) -> set[str]:
    """The distinct words of ``text``, lower-cased (``"The cat's"`` -> ``{"the", "cat's"}``)."""
    return set(WORD.findall(text.lower()))


def sampled_words(sample: str, prompt: str) -> list[str]:
    """The words the model wrote in ``sample`` (which starts with ``prompt``), lower-cased.

    A word that ends inside the prompt is the prompt's, not the model's. The last word is
    left out when the sample ends in the middle of a word: the length limit cut it, not the
    model.

    Examples
    --------
    >>> sampled_words("The cat sat on thw mat", "The cat ")
    ['sat', 'on', 'thw']
    >>> sampled_words("The ca sat.", "The ca")  # "ca" ends in the prompt
    ['sat']
    """
    if not sample.startswith(prompt):
        raise ValueError(f"the sample does not start with the prompt {prompt!r}")
    text = sample.lower()
    found = [m for m in WORD.finditer(text) if m.end() > len(prompt)]
    if found and found[-1].end() == len(text) and len(text) > len(prompt):
        found.pop()  # cut by the length limit
    return [m.group() for m in found]


def real_word_counts(sample: str, prompt: str, vocabulary: set[str]) -> tuple[int, int]:
    """``(real, total)``: of the words the model wrote, how many are in ``vocabulary``.

    Examples
    --------
    >>> real_word_counts("The cat sat on thw mat", "The cat ", word_set("the cat sat on a mat"))
    (2, 3)
    """
    words = sampled_words(sample, prompt)
    return sum(w in vocabulary for w in words), len(words)


# ------------------------------------------------------------------------------- the page
def layout(
    poem: str, prompt_chars: int, width: int = WRAP, lines: int = PAGE_LINES
) -> tuple[str, np.ndarray]:
    """The poem as it is printed: lines wrapped at ``width`` columns, at most ``lines`` lines.

    A line too long breaks at its last space (the space becomes the line break) or, with no
    space in it, after ``width`` characters. Returns the page and a boolean array, one entry
    per character of the page, that marks the characters of the prompt (the first
    ``prompt_chars`` characters of ``poem``, a space among them turned into a line break
    included).

    Examples
    --------
    >>> page, mask = layout("The cat sat on the mat", 8, width=10)
    >>> page.split("\\n"), int(mask.sum())
    (['The cat', 'sat on the', 'mat'], 8)
    """
    chars: list[str] = []
    prompt: list[bool] = []
    start = 0  # index in chars of the current line's first character
    for i, c in enumerate(poem):
        if c == "\n":
            chars.append(c)
            prompt.append(i < prompt_chars)
            start = len(chars)
            continue
        if len(chars) - start == width:  # the line is full: break it before c
            line = chars[start:]
            if c == " ":  # the space itself becomes the break
                chars.append("\n")
                prompt.append(i < prompt_chars)
                start = len(chars)
                continue
            if " " in line:
                at = start + len(line) - 1 - line[::-1].index(" ")
                chars[at] = "\n"
                start = at + 1
            else:
                chars.append("\n")
                prompt.append(False)
                start = len(chars)
        chars.append(c)
        prompt.append(i < prompt_chars)
    page = "".join(chars)
    kept = page.split("\n")[:lines]
    n = len("\n".join(kept))
    return page[:n], np.array(prompt[:n], dtype=bool)


# ------------------------------------------------------------------------------- frames
def frame_count(cfg: Config) -> int:
    """The first and last poems typed out, each poem between them faded in, held and out, and
    the final hold: counted from the settings alone, with no training."""
    evals = math.ceil(cfg.iters / cfg.eval_interval) + 1
    typed = _typing_frames(cfg, first=True) + _typing_frames(cfg, first=False)
    hold, fade = round(cfg.hold_s * FPS), round(cfg.fade_s * FPS)
    return typed + (evals - 2) * (2 * fade + hold) + fade + hold + _final_hold(cfg)


def _typing_frames(cfg: Config, first: bool) -> int:
    """Frames that the first or the last poem is typed in: as many as ``max_tokens`` characters
    take at the typing speed, whatever the page holds, so that the count is known before
    training (a page cut at PAGE_LINES is typed out sooner, then stays)."""
    per_frame = cfg.typing_chars_per_s / FPS * (FIRST_TYPING_SPEEDUP if first else 1)
    return max(1, math.ceil(cfg.max_tokens / per_frame))


def _final_hold(cfg: Config) -> int:
    return max(1, round(cfg.final_hold_s * FPS))


def _train(cfg: Config, vocabulary: set[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train the GPT; at every evaluation sample the poem. Returns the checkpoints
    (``iter``, ``poem``, ``real``, ``words``) and the run's summary."""
    from genailab.lm import train

    checkpoints: list[dict[str, Any]] = []

    def on_eval(snapshot: Any) -> None:  # the weights at this step; not kept
        poem = snapshot.generate(cfg.prompt, cfg.max_tokens, cfg.temperature, seed=cfg.seed)
        real, words = real_word_counts(poem, cfg.prompt, vocabulary)
        checkpoints.append({"iter": snapshot.iter, "poem": poem, "real": real, "words": words})

    with tempfile.TemporaryDirectory() as out:
        summary = train(out=out, on_eval=on_eval, **train_settings(cfg))
    return checkpoints, summary


def frames(cfg: Config) -> Iterator[Frame]:
    from genailab.lm import load_corpus

    corpus = load_corpus(cfg.corpus)
    missing = sorted(set(cfg.prompt) - set(corpus.train_text))
    if missing:
        raise ValueError(
            f"prompt {cfg.prompt!r} has characters that the training text lacks: {missing}"
        )
    vocabulary = word_set(corpus.train_text)
    checkpoints, summary = _train(cfg, vocabulary)
    history = summary["history"]
    if [c["iter"] for c in checkpoints] != [h["iter"] for h in history]:
        raise RuntimeError("cat-poems: one poem per evaluation expected")  # on_eval's contract
    iters = np.array([h["iter"] for h in history])  # (K,)
    val = np.array([h["val_loss"] for h in history])  # (K,)
    train_loss = np.array([h["train_loss"] for h in history])  # (K,)
    share = np.array([c["real"] / c["words"] if c["words"] else np.nan for c in checkpoints])
    losses = np.r_[val, train_loss]
    uniform = math.log(len(set(corpus.train_text)))  # the loss of a uniform guess
    ylim = np.array([math.floor(losses.min() * 5) / 5 - 0.1, uniform + 0.4])
    text = {"prompt": cfg.prompt, "iters": str(cfg.iters)}
    text["sampling"] = f"temperature {cfg.temperature:g}, seed {cfg.seed}"
    K = len(checkpoints)
    for k, ckpt in enumerate(checkpoints):
        page, mask = layout(ckpt["poem"], len(cfg.prompt))
        arrays = {
            "iters": iters[: k + 1],
            "val": val[: k + 1],
            "train": train_loss[: k + 1],
            "share": share[: k + 1],
            "ylim": ylim,
            "prompt_mask": mask,
        }
        scalars = {
            "val_loss": val[k],
            "train_loss": train_loss[k],
            "real_word_share": share[k],
            "words": ckpt["words"],
        }
        last = k == K - 1
        if last:  # the run's final figures
            scalars = {
                "val_loss": val[k],
                "train_loss": train_loss[k],
                "val_loss_min": val.min(),
                "real_word_share_first": share[0],
                "real_word_share_last": share[k],
                "words_first": checkpoints[0]["words"],
                "words_last": ckpt["words"],
                "iters": ckpt["iter"],
                "val_loss_first": val[0],
                "uniform": uniform,
                "params": summary["num_parameters"],
                "n_layer": cfg.n_layer,
                "n_embd": cfg.n_embd,
            }
        texts = {**text, "poem": ckpt["poem"], "page": page}
        texts["words"] = f"{ckpt['real']} of the {ckpt['words']} words"
        if ckpt["words"]:
            texts["words"] += f" ({100 * share[k]:.0f}%)"
        for shown, opacity, phase in _plays(cfg, page, mask, first=k == 0, last=last):
            yield Frame(
                step=ckpt["iter"],
                arrays={**arrays, "shown": np.array(shown), "opacity": np.array(opacity)},
                scalars=scalars,
                text={**texts, "phase": phase},
                caption=caption(k, K),
            )


def _plays(
    cfg: Config, page: str, mask: np.ndarray, first: bool, last: bool
) -> Iterator[tuple[int, float, str]]:
    """How one checkpoint's poem is shown, frame by frame: ``(characters of the page shown,
    opacity, phase)``. The first and the last poem are typed out (the prompt at once), the
    others fade in; all but the last are held, then fade out; the last is held longer."""
    full, fade = len(page), round(cfg.fade_s * FPS)
    if first or last:
        start = int(np.flatnonzero(mask)[-1]) + 1 if mask.any() else 0
        per_frame = cfg.typing_chars_per_s / FPS * (FIRST_TYPING_SPEEDUP if first else 1)
        frames = _typing_frames(cfg, first)
        # faster only if wrapping added line breaks to the page beyond max_tokens characters
        rate = max(per_frame, (full - start) / frames)
        for i in range(frames):
            typed = start + round(i * rate)
            yield (typed, 1.0, "typing") if typed < full else (full, 1.0, "shown")
    else:
        for i in range(fade):
            yield full, (i + 1) / (fade + 1), "shown"
    if last:
        for _ in range(_final_hold(cfg)):
            yield full, 1.0, "shown"
        return
    for _ in range(round(cfg.hold_s * FPS)):
        yield full, 1.0, "shown"
    for i in range(fade):
        yield full, 1 - (i + 1) / (fade + 1), "shown"


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a, t = frame.arrays, frame.text
    # the live readout, below the title band that the runner paints the caption into
    art: dict = {"title": fig.text(0.04, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)}
    page = fig.add_axes((0.03, 0.07, 0.585, 0.79))
    page.set(xticks=[], yticks=[], xlim=(0, 1), ylim=(0, 1))
    page.set_facecolor(PAGE_COLOUR)
    for spine in page.spines.values():
        spine.set_visible(False)
    page.text(
        0.03,
        0.965,
        f"prompt {t['prompt']!r}, {t['sampling']}",
        color=MUTED,
        fontsize=SMALL_SIZE,
        va="top",
        transform=page.transAxes,
    )
    mono = dict(family="monospace", fontsize=13, va="top", ha="left", linespacing=1.3)
    art["poem"] = page.text(0.03, 0.9, "", color=INK, **mono, transform=page.transAxes)
    art["prompt"] = page.text(
        0.03, 0.9, "", color=PROMPT_COLOUR, weight="bold", **mono, transform=page.transAxes
    )
    art["footer"] = page.text(
        0.03, 0.03, "", color=WORDS_COLOUR, fontsize=SMALL_SIZE + 1, transform=page.transAxes
    )
    iters = int(t["iters"])
    loss = fig.add_axes((0.70, 0.47, 0.28, 0.35))
    style_axes(loss)
    loss.set(xlim=(0, iters), ylim=tuple(a["ylim"]), ylabel="loss (nats per character)")
    (art["train"],) = loss.plot([], [], color=TRAIN_COLOUR, lw=1.5, ls="--", label="training")
    (art["val"],) = loss.plot([], [], color=VAL_COLOUR, lw=2.2, label="validation")
    (art["val_now"],) = loss.plot([], [], "o", color=VAL_COLOUR, ms=8, zorder=5, clip_on=False)
    loss.legend(fontsize=SMALL_SIZE, frameon=False, loc="upper right")
    # NOTE: a plain text, not set_title: freeze_background leaves a live axes title undrawn
    art["loss_title"] = loss.text(0, 1.06, "", fontsize=11, color=INK, transform=loss.transAxes)
    words = fig.add_axes((0.70, 0.09, 0.28, 0.22))
    style_axes(words)
    words.set(xlim=(0, iters), ylim=(0, 100), xlabel="training step")
    words.set_yticks([0, 50, 100], ["0%", "50%", "100%"])
    (art["share"],) = words.plot([], [], color=WORDS_COLOUR, lw=2, marker="o", ms=3.5)
    (art["share_now"],) = words.plot([], [], "o", color=WORDS_COLOUR, ms=8, zorder=5, clip_on=False)
    words.set_title("sampled words that are real words", fontsize=11, loc="left")
    freeze_background(fig, list(art.values()))
    return art


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, t = frame.arrays, frame.text
    page, mask, shown = t["page"], a["prompt_mask"], int(a["shown"])
    # two layers of the same monospaced page: the prompt's characters and the model's
    end = int(np.flatnonzero(mask)[-1]) + 1 if mask.any() else 0
    prompt = "".join(c if m or c == "\n" else " " for c, m in zip(page[:end], mask, strict=False))
    model = "".join(" " if m and c != "\n" else c for c, m in zip(page, mask, strict=True))
    cursor = CURSOR if t["phase"] == "typing" else ""
    art["prompt"].set_text(prompt)
    art["poem"].set_text(model[:shown] + cursor)
    opacity = float(a["opacity"])
    for key in ("prompt", "poem", "footer"):
        art[key].set_alpha(opacity)
    step, val = frame.step, float(a["val"][-1])
    art["footer"].set_text(
        "" if t["phase"] == "typing" else f"{t['words']} it wrote are words of the training text"
    )
    art["train"].set_data(a["iters"], a["train"])
    art["val"].set_data(a["iters"], a["val"])
    art["val_now"].set_data([step], [val])
    art["loss_title"].set_text(f"step {step}: validation loss {val:.3f}")
    share = 100 * a["share"]
    art["share"].set_data(a["iters"], share)
    art["share_now"].set_data([step], [share[-1]])
    iters = t["iters"]
    if step == 0:
        what = "untrained, the GPT types noise"
    elif step == int(iters):
        what = "trained"
    else:
        what = "training"
    art["title"].set_text(f"A GPT writes about cats: step {step} of {iters}, {what}")
