"""Five character-level language models learn the same cat poems on the same budget: {steps}
training steps each, on the same batches of {block_size}-character windows, scored on the same
held-out windows from the last tenth of the text. The curves are their validation losses
(cross-entropy in nats per character; the dotted line is the uniform guess, log 59), and each line
on the right is what a model writes after "The cat", sampled with the same seed at every evaluation
(" / " is a line break of the verse). The ranking follows how far back each model can look. The
bigram counts which character follows which, once: a flat line at {val_bigram:.2f}, and a jumble of
plausible pairs. The MLP (Bengio et al. 2003) sees the last {mlp_context} characters, enough for
short words: {val_mlp:.2f}, the biggest step of the ladder. The dilated CNN (WaveNet), the LSTM and
the GPT see the whole window and finish ahead of the MLP, at {val_cnn:.2f}, {val_lstm:.2f} and
{val_gpt:.2f}; which of the three wins depends on the seed and the sizes. At this scale the text,
not the context, is the limit: 40 KB of poems is little, and on the full preset every network fits
its training text better than the held-out text (the two loss columns of the table). The LSTM's
built-in focus on the recent past suits characters and small data, which is why it keeps up; a
transformer's lead grows with far more text and bigger models (Kaplan et al. 2020), the scale at
which real GPTs train.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from genailab.experiments._lm_training import (
    MAX_ITERS,
    LMTraining,
    train_arguments,
    training_memory_bytes,
)
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

LADDER = ("bigram", "mlp", "cnn", "lstm", "gpt")  # genailab.lm.MODELS, simplest first
NAMES = {"bigram": "bigram", "mlp": "MLP", "cnn": "CNN", "lstm": "LSTM", "gpt": "GPT"}
COLOURS = {
    "bigram": PALETTE[7],
    "mlp": PALETTE[1],
    "cnn": PALETTE[2],
    "lstm": PALETTE[4],
    "gpt": PALETTE[0],
}
# Every size field each model has, pinned here so that the presets of genailab.lm may change
# without changing the video.
SIZES: dict[str, dict[str, dict[str, int]]] = {
    "small": {
        "bigram": {},
        "mlp": {"context": 8, "n_embd": 24, "n_hidden": 256, "n_layer": 1},
        "cnn": {"n_embd": 48, "n_layer": 6, "kernel_size": 2},
        "lstm": {"n_embd": 64, "n_hidden": 192, "n_layer": 1},
        "gpt": {"n_layer": 3, "n_head": 4, "n_embd": 96},
    },
    "tiny": {
        "bigram": {},
        "mlp": {"context": 4, "n_embd": 8, "n_hidden": 32, "n_layer": 1},
        "cnn": {"n_embd": 16, "n_layer": 5, "kernel_size": 2},  # sees the whole 32
        "lstm": {"n_embd": 24, "n_hidden": 64, "n_layer": 1},
        "gpt": {"n_layer": 2, "n_head": 4, "n_embd": 48},
    },
}


@experiment(
    name="lm-ladder",
    chapter="From zero to GPT",
    title="Five language models, one budget",
    order=7,
    seconds=(45, 16),
)
@dataclass
class Config(LMTraining):
    sizes: Literal["small", "tiny"] = setting("small", help="the model sizes of every rung (SIZES)")
    eval_interval: int = setting(
        12, help="steps between evaluations: one frame each", ge=1, le=MAX_ITERS
    )
    prompt: str = setting("The cat", help="the start of every sampled line (one line)")
    sample_chars: int = setting(
        42, help="characters each model writes after the prompt, at every frame", ge=1, le=1000
    )
    temperature: float = setting(
        0.8, help="sampling temperature: below 1 safer, above 1 wilder, 0 greedy", ge=0, le=10
    )
    hold: int = setting(10, help="extra frames that hold the final table", ge=0, le=600)
    # Small models, a short context and a high learning rate: enough steps in ~20 s of CPU
    # that the networks pass the bigram and rank as on the full preset (40 steps did not).
    QUICK = dict(
        sizes="tiny",
        iters=400,
        lr=0.01,
        batch_size=16,
        block_size=32,
        eval_interval=20,
        eval_iters=4,
        sample_chars=24,
        hold=5,
    )

    def __post_init__(self) -> None:
        if not self.prompt:
            raise ValueError("prompt must not be empty")
        if "\n" in self.prompt:
            raise ValueError(f"prompt must be one line, got {self.prompt!r}")
        if len(self.prompt) > self.block_size:
            raise ValueError(
                f"prompt has {len(self.prompt)} characters, more than block_size {self.block_size}"
            )


QUESTION = (
    "On the same training budget, how much better do language models that see further back "
    "predict the next character of a poem?"
)
ANSWER = (
    "Validation loss after {steps} steps each: bigram {val_bigram:.2f}, MLP {val_mlp:.2f}, "
    "CNN {val_cnn:.2f}, LSTM {val_lstm:.2f}, GPT {val_gpt:.2f} nats per character"
)
CLAIMS = (
    Claim("val_gpt < val_bigram - 0.1", "the GPT beats the bigram by over 0.1 nats a character"),
    Claim("val_mlp < val_bigram - 0.1", "a few characters of context: the MLP beats the bigram"),
    Claim(
        "max(val_cnn, val_lstm, val_gpt) < val_mlp",
        "the CNN, the LSTM and the GPT, which see the whole window, all beat the MLP",
    ),
)


def caption(step: int, iters: int, table: bool) -> str:
    """The message of the stretch of training ``step`` falls in (``table``: the final table)."""
    if table:
        return "Same steps, same batches: the table of what each model cost and reached"
    if step < 0.1 * iters:
        return "Untrained, the networks guess almost uniformly; the bigram counts pairs, once"
    if step < 0.45 * iters:
        return "Looking further back than one character, the networks pass the bigram"
    return "The models that see the whole window pull ahead of the MLP"


def train_settings(cfg: Config, model: str) -> dict[str, Any]:
    """The arguments of :func:`genailab.lm.train` for one rung of the ladder (all but ``out``).

    The same for every rung but the model's own sizes: the steps, the batches, the schedule
    and the evaluation windows (:func:`~genailab.experiments._lm_training.train_arguments`).
    """
    return train_arguments(cfg, model, SIZES[cfg.sizes][model], cfg.eval_interval)


def memory_bytes(cfg: Config) -> int:
    """The largest rung's training (the rungs train one after another), and the frames' loss
    tables (each frame holds views of them) and sampled lines, small beside it."""
    training = max(training_memory_bytes(cfg, model, SIZES[cfg.sizes][model]) for model in LADDER)
    evaluations = len(evaluation_steps(cfg))
    line = 4 * (len(cfg.prompt) + 3 * cfg.sample_chars)  # a str of up to 4 bytes a character
    return training + len(LADDER) * evaluations * (8 * 3 + line)


def sample_line(snapshot: Any, cfg: Config) -> str:
    """The prompt and what ``snapshot`` (a :class:`genailab.lm.TrainedModel`) writes after
    it with the experiment's seed, on one line: a line break of the verse shows as " / "."""
    text = snapshot.generate(
        cfg.prompt, max_tokens=cfg.sample_chars, temperature=cfg.temperature, seed=cfg.seed
    )
    return text.rstrip("\n").replace("\n", " / ")


def evaluation_steps(cfg: Config) -> list[int]:
    """The steps at which every trained model is evaluated: each ``eval_interval``, and the end."""
    steps = list(range(0, cfg.iters + 1, cfg.eval_interval))
    return steps if steps[-1] == cfg.iters else [*steps, cfg.iters]


def frame_count(cfg: Config) -> int:
    """One frame per evaluation, then the final table held ``hold`` frames."""
    return len(evaluation_steps(cfg)) + cfg.hold


def _reach(cfg: Config, model: str) -> str:
    """How far back the model sees, in words, for its label."""
    size = SIZES[cfg.sizes][model]
    if model == "bigram":
        return "counts pairs"
    if model == "mlp":
        return f"last {size['context']} characters"
    if model == "cnn":
        k, layers = size["kernel_size"], size["n_layer"]
        field = 1 + (k - 1) * sum(k**i for i in range(layers))  # dilations 1, k, k^2, ...
        return f"dilated convolutions, last {min(field, cfg.block_size)}"
    if model == "lstm":
        return f"recurrent memory, last {cfg.block_size}"
    return f"attention, last {cfg.block_size}"


def frames(cfg: Config) -> Iterator[Frame]:
    import torch

    from genailab.lm import train

    runs: dict[str, dict[str, Any]] = {}
    for model in LADDER:
        records: list[tuple[int, float, float, str]] = []  # (step, val, train, line)

        def watch(snapshot: Any, records: list = records) -> None:
            last = snapshot.history[-1]
            line = sample_line(snapshot, cfg)
            records.append((snapshot.iter, last["val_loss"], last["train_loss"], line))

        with tempfile.TemporaryDirectory() as out, torch.random.fork_rng():
            summary = train(out=out, on_eval=watch, **train_settings(cfg, model))
        runs[model] = {"records": records, "summary": summary}

    steps = evaluation_steps(cfg)
    for model in LADDER[1:]:
        iters = [r[0] for r in runs[model]["records"]]
        if iters != steps:  # the lockstep replay below needs the same evaluations everywhere
            raise RuntimeError(f"lm-ladder: {model} was evaluated at {iters}, expected {steps}")
    bigram = runs["bigram"]["records"][0]  # counted once, before any step
    K = len(steps)
    val = np.empty((len(LADDER), K))  # (M, K) validation loss at every evaluation
    train_loss = np.empty((len(LADDER), K))  # (M, K) training loss, on fixed train windows
    val[0], train_loss[0] = bigram[1], bigram[2]
    lines = [[bigram[3]] * K]
    for m, model in enumerate(LADDER[1:], start=1):
        records = runs[model]["records"]
        val[m] = [r[1] for r in records]
        train_loss[m] = [r[2] for r in records]
        lines.append([r[3] for r in records])
    summaries = [runs[model]["summary"] for model in LADDER]
    params = np.array([s["num_parameters"] for s in summaries])  # (M,)
    speed = np.array([s["tokens_per_s"] for s in summaries], dtype=float)  # (M,)
    uniform = math.log(summaries[0]["vocab_size"])
    labels = {f"label_{model}": _reach(cfg, model) for model in LADDER}
    common = {"steps": str(cfg.iters), "uniform": repr(uniform), "prompt": cfg.prompt, **labels}

    for k, step in enumerate(steps):
        final = k == K - 1
        scalars = {f"val_{model}": float(val[m, k]) for m, model in enumerate(LADDER)}
        if final:
            scalars |= {f"train_{model}": float(train_loss[m, k]) for m, model in enumerate(LADDER)}
            scalars |= {f"params_{model}": int(p) for model, p in zip(LADDER, params, strict=True)}
            scalars["uniform"] = uniform
            scalars |= {"steps": cfg.iters, "block_size": cfg.block_size}
            scalars["mlp_context"] = SIZES[cfg.sizes]["mlp"]["context"]
        frame = Frame(
            step=step,
            arrays={
                "iters": np.array(steps[: k + 1]),
                "val": val[:, : k + 1],
                "val_all": val,  # the whole run, for the fixed axis limits
                "train": train_loss[:, : k + 1],
                "params": params,
                "tokens_per_s": speed,
            },
            scalars=scalars,
            text={
                **common,
                **{f"line_{model}": lines[m][k] for m, model in enumerate(LADDER)},
                "stage": "table" if final else "training",
            },
            caption=caption(step, cfg.iters, table=final),
            poster=final,
        )
        if final:  # the table stays on screen for a while: the same frame, held
            for _ in range(cfg.hold):
                yield Frame(
                    frame.step,
                    frame.arrays,
                    dict(frame.scalars),
                    dict(frame.text),
                    caption=frame.caption,
                )
        yield frame


# ------------------------------------------------------------------------------- drawing
ROW_TOP, ROW_HEIGHT = 0.735, 0.14  # figure coordinates of the right-hand rows
LEFT = 0.475  # where the rows start
COLUMNS = {
    "params": 0.705,
    "speed": 0.805,
    "train": 0.89,
    "loss": 0.975,
}  # right edges of the table columns
LINE_SIZE = 10  # points, of the sampled lines
LINE_CHARS = 58  # characters that fit in a row at that size


def _format_params(n: float) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e4 else f"{n:,.0f}"


def _loss_limits(val: np.ndarray, uniform: float) -> tuple[float, float]:
    """Fixed y limits over the video: a round 0.1 below the best loss, just above the worst."""
    return float(np.floor(val.min() * 10) / 10), max(float(val.max()), uniform) * 1.04


def _setup(canvas: Canvas, frame: Frame) -> dict:
    fig = canvas.figure
    a, t = frame.arrays, frame.text
    art: dict = {
        # the live readout, below the title band that the runner paints the caption into
        "title": fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK),
        "info": fig.text(0.03, 0.835, "", fontsize=SMALL_SIZE + 1, color=MUTED),
    }
    ax = fig.add_axes((0.075, 0.11, 0.36, 0.66))
    style_axes(ax)
    steps, uniform = int(t["steps"]), float(t["uniform"])
    low, high = _loss_limits(a["val_all"], uniform)
    ax.set_yscale("log")  # the race at the end gets room, and the start stays in view
    ticks = [v for v in (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0) if low <= v <= high]
    ax.set_yticks(ticks, [f"{v:g}" for v in ticks])
    ax.minorticks_off()
    ax.set(xlim=(0, steps), ylim=(low, high), xlabel="training step")
    ax.set_ylabel("validation loss (nats per character)")
    ax.axhline(uniform, color=MUTED, lw=1, ls=":")
    ax.text(steps, uniform * 1.01, "uniform guess", color=MUTED, fontsize=SMALL_SIZE, ha="right",
            va="bottom")  # fmt: skip
    art["curves"] = [
        ax.plot([], [], color=COLOURS[m], lw={"gpt": 2.6, "bigram": 1.5}.get(m, 2.0))[0]
        for m in LADDER
    ]
    art["dots"] = [ax.plot([], [], "o", color=COLOURS[m], ms=5)[0] for m in LADDER]
    # the prompt in grey, the model's continuation in ink right after it
    renderer = fig.canvas.get_renderer()
    probe = fig.text(0, 0, "x" * 20, fontsize=LINE_SIZE, family="monospace")
    char = probe.get_window_extent(renderer).width / 20 / canvas.width  # figure units
    probe.remove()
    indent = LEFT + char * len(t["prompt"])
    header = {"fontsize": SMALL_SIZE, "color": MUTED, "ha": "right"}
    art["header"] = [
        fig.text(COLUMNS["params"], ROW_TOP + 0.05, "parameters", **header),
        fig.text(COLUMNS["speed"], ROW_TOP + 0.05, "tokens/s", **header),
        fig.text(COLUMNS["train"], ROW_TOP + 0.05, "train loss", **header),
        fig.text(COLUMNS["loss"], ROW_TOP + 0.05, "val loss", **header),
    ]
    art["rows"] = []
    for m, model in enumerate(LADDER):
        y = ROW_TOP - m * ROW_HEIGHT
        right = {"fontsize": 12, "color": INK, "ha": "right"}
        mono = {"fontsize": LINE_SIZE, "family": "monospace"}
        row = {
            "name": fig.text(LEFT, y, NAMES[model], fontsize=12, color=COLOURS[model],
                             weight="bold"),
            "label": fig.text(LEFT + 0.08, y + 0.003, t[f"label_{model}"],
                              fontsize=SMALL_SIZE, color=MUTED),
            "params": fig.text(COLUMNS["params"], y, "", **right),
            "speed": fig.text(COLUMNS["speed"], y, "", **right),
            "train": fig.text(COLUMNS["train"], y, "", **right),
            "loss": fig.text(COLUMNS["loss"], y, "", **right),
            "prompt": fig.text(LEFT, y - 0.052, t["prompt"], color=MUTED, **mono),
            "line": fig.text(indent, y - 0.052, "", color=INK, **mono),
        }  # fmt: skip
        art["rows"].append(row)
    return art


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, s, t = frame.arrays, frame.scalars, frame.text
    table = t["stage"] == "table"
    iters, prompt = a["iters"], t["prompt"]
    for m, model in enumerate(LADDER):
        art["curves"][m].set_data(iters, a["val"][m])
        art["dots"][m].set_data(iters[-1:], a["val"][m, -1:])
        row = art["rows"][m]
        row["loss"].set_text(f"{s[f'val_{model}']:.3f}")
        line = t[f"line_{model}"][len(prompt) :]
        shown = LINE_CHARS - len(prompt)  # an untrained model's many line breaks: cut
        row["line"].set_text(line if len(line) <= shown else line[: shown - 1] + "\u2026")
        row["label"].set_visible(not table)
        row["params"].set_text(_format_params(a["params"][m]) if table else "")
        speed = "counted" if model == "bigram" else f"{a['tokens_per_s'][m]:,.0f}"
        row["speed"].set_text(speed if table else "")
        row["train"].set_text(f"{a['train'][m, -1]:.3f}" if table else "")
    for text in art["header"][:3]:
        text.set_visible(table)
    steps = t["steps"]
    losses = {model: s[f"val_{model}"] for model in LADDER}
    ranking = sorted(losses, key=losses.get)
    if table:
        art["title"].set_text(
            f"After {steps} steps each, lowest loss first: " + ", ".join(NAMES[m] for m in ranking)
        )
        art["info"].set_text(
            "loss in nats per character on the training text and on held-out text; "
            "tokens/s of training on this machine"
        )
    else:
        best = ranking[0]
        art["title"].set_text(
            f"Step {frame.step} of {steps}: lowest validation loss {losses[best]:.2f} "
            f"({NAMES[best]})"
        )
        art["info"].set_text(
            "same steps, same batches, same context window; each line is sampled with the same "
            "seed at every evaluation"
        )
