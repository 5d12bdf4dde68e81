"""A small GPT (on the full preset 3 blocks of 4 attention heads) learns the cat poems, then
reads the start of a line from the validation split, text it never trained on (on the full
preset "A cat who went out in the sno"), while we watch inside it. Each heatmap is one attention
head: row t is the character the model is at, and the colour across the row is how much it
reads from each earlier character (nothing right of the diagonal: the future is masked). First
the maps take shape during training; then the video sweeps them block by block and head by head
(every head in the small grid, the big one outlined) and finally steps through the line a
character at a time with the head that reads furthest back. The bars are the logit lens
(nostalgebraist, 2020): the hidden state after the embeddings and after each block, read through
the model's final LayerNorm and output head as if the network stopped there, as its top guesses
for the next character, the true one in green. Over this run's line the true next character gets
{p_line_embeddings:.0%} from the embeddings alone, which mostly name the character just read since
input and output share one table, and {p_line_output:.0%} from the output after {iters} steps;
its loss there is {line_loss:.2f} nats per character against {uniform_loss:.2f} for a uniform
guess. The trained rows carry {attention_entropy_bits:.1f} bits of attention entropy against
{uniform_entropy_bits:.1f} if each spread evenly: the heads pick what to read. On the full preset
the last panel, the model's real prediction, names the "w" of "snow". Every row predicts its own
next character at the same time, which is how a GPT trains on a whole line in one pass.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from genailab.experiments._lm_training import (
    LMTraining,
    batch_size_setting,
    block_size_setting,
    dropout_setting,
    eval_iters_setting,
    gpt_sizes,
    iters_setting,
    train_arguments,
    training_memory_bytes,
)
from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import setting
from genailab.video import Canvas, freeze_background
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

DEFAULT_LINE = "A cat who went out in the sno"  # a limerick in the validation split of `cats`
SHOWN = {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5"}  # open box for a space, return arrow
BAR, TRUE, MARK = PALETTE[0], PALETTE[2], PALETTE[3]


@experiment(
    name="attention",
    chapter="From zero to GPT",
    title="Inside a GPT: attention maps and the logit lens",
    fps=5,
    order=8,
    seconds=(45, 16),
)
@dataclass
class Config(LMTraining):
    iters: int = iters_setting(1200)
    batch_size: int = batch_size_setting(32)
    block_size: int = block_size_setting(48)
    dropout: float = dropout_setting(0.1)
    eval_iters: int = eval_iters_setting(8)
    line: str = setting(
        DEFAULT_LINE, help="what the model reads, after a newline (the start of a line)"
    )
    n_layer: int = setting(3, help="transformer blocks of the GPT", ge=1, le=24)
    n_head: int = setting(4, help="attention heads per block: one map each", ge=1, le=32)
    n_embd: int = setting(64, help="width of the GPT (a multiple of n_head)", ge=2, le=1024)
    snapshots: int = setting(20, help="evaluations during training, one frame each", ge=1, le=1000)
    top_k: int = setting(5, help="guesses shown in each bar chart of the lens", ge=1, le=20)
    hold: int = setting(4, help="frames each head stays on screen in the sweep", ge=1, le=100)
    # Small enough for the tour, trained long enough that the maps are sharp and the lens
    # tells the same story as the full preset (60 steps of a 16-wide model learned nothing).
    QUICK = dict(
        line="A cat who went",
        n_layer=2,
        n_head=2,
        n_embd=32,
        block_size=48,
        batch_size=16,
        iters=300,
        dropout=0.0,
        snapshots=5,
        eval_iters=2,
        hold=1,
    )

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head or (self.n_embd // self.n_head) % 2:
            raise ValueError(
                f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head}) with an "
                "even head size (rotary positions rotate pairs of channels)"
            )
        if not self.line:
            raise ValueError("line must not be empty")
        if len(self.line) + 1 > self.block_size:
            raise ValueError(
                f"line has {len(self.line)} characters; with the newline before it the model "
                f"reads {len(self.line) + 1}, more than block_size {self.block_size}"
            )
        vocab = set(_train_text(self.corpus))
        missing = sorted(set(self.line) - vocab)
        if missing:
            raise ValueError(
                f"line has characters the {self.corpus!r} corpus never uses for training: "
                f"{''.join(missing)!r}"
            )


QUESTION = (
    "Where does a small GPT look as it reads a line it never trained on, and how does each "
    "block sharpen its guess of the next character?"
)
ANSWER = (
    "After {iters} steps: the true next character gets {p_line_embeddings:.0%} from the "
    "embeddings alone, {p_line_output:.0%} from the output; attention rows carry "
    "{attention_entropy_bits:.1f} bits, uniform ones {uniform_entropy_bits:.1f}"
)
CLAIMS = (
    Claim(
        "p_line_output > 2 * p_line_embeddings",
        "the blocks at least double the embeddings' odds of the true next character",
    ),
    Claim(
        "line_loss < uniform_loss - 1",
        "on the unseen line the model beats a uniform guess by over a nat per character",
    ),
    Claim(
        "attention_entropy_bits < uniform_entropy_bits - 0.3",
        "the trained heads read sharply: their rows are far from uniform",
    ),
)


def caption(phase: str) -> str:
    """The message of a stretch of frames: what the video is showing in that phase."""
    if phase == "train":
        return "Training: the attention maps take shape as the validation loss falls"
    if phase == "sweep":
        return "Block by block, head by head: where each character of the line looks"
    if phase == "lens":
        return "The logit lens: the next character read after each block, as if it stopped there"
    return "Reading the line one character at a time with the head that reaches furthest back"


def _train_text(corpus: str) -> str:
    from genailab.lm import load_corpus

    return load_corpus(corpus).train_text


def train_settings(cfg: Config) -> dict[str, Any]:
    """The arguments of :func:`genailab.lm.train` for this experiment (all but ``out``): the
    shared rules of :func:`~genailab.experiments._lm_training.train_arguments`, evaluated
    ``snapshots`` times."""
    sizes = gpt_sizes(cfg.n_layer, cfg.n_head, cfg.n_embd)
    return train_arguments(cfg, "gpt", sizes, max(1, cfg.iters // cfg.snapshots))


def memory_bytes(cfg: Config) -> int:
    """The training, and every snapshot's attention maps (L, H, T, T) and logit lens
    (L+1, T, V) in float32 that the frames hold."""
    T = len(cfg.line) + 1
    V = len(set(_train_text(cfg.corpus)))
    per_snapshot = 4 * (cfg.n_layer * cfg.n_head * T * T + (cfg.n_layer + 1) * T * V)
    training = training_memory_bytes(cfg, "gpt", gpt_sizes(cfg.n_layer, cfg.n_head, cfg.n_embd))
    return training + (cfg.snapshots + 2) * per_snapshot


def reading(cfg: Config) -> tuple[str, str | None]:
    """The text the model reads (a newline, then ``cfg.line``) and the character that
    follows the line in the corpus (its validation split first), or None if the line is not
    in the corpus."""
    from genailab.lm import load_corpus

    corpus = load_corpus(cfg.corpus)
    text = "\n" + cfg.line
    n = len(corpus.train_text)
    for offset, where in ((n, corpus.val_text), (0, corpus.text)):
        at = where.find(text)
        if at >= 0 and offset + at + len(text) < len(corpus.text):
            return text, corpus.text[offset + at + len(text)]
    return text, None


def show(char: str) -> str:
    """A character as drawn on the axes: a space and a newline made visible."""
    return SHOWN.get(char, char)


def _read_hold(cfg: Config) -> int:
    """Frames per position when the video steps through the line."""
    return max(1, cfg.hold // 2)


def frame_count(cfg: Config) -> int:
    """The evaluations during training, the sweep over every head and the lens held, then
    the line read a position at a time and the last position held."""
    every = train_settings(cfg)["overrides"]["eval_interval"]
    evaluations = cfg.iters // every + 1 + (cfg.iters % every > 0)
    sweep = (cfg.n_layer * cfg.n_head + 3) * cfg.hold  # the heads, then the lens held
    return evaluations + sweep + len(cfg.line) * _read_hold(cfg) + 2 * cfg.hold


def _entropy_bits(maps: np.ndarray) -> np.ndarray:
    """Mean entropy in bits of the attention rows, per layer: (L, H, T, T) -> (L,)."""
    p = maps.astype(np.float64)
    h = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(-1)  # (L, H, T)
    return h.mean(axis=(1, 2))


def _reach(maps: np.ndarray) -> np.ndarray:
    """How far back each head reads on average, in characters: (L, H, T, T) -> (L, H)."""
    T = maps.shape[-1]
    t = np.arange(T)
    distance = np.maximum(t[:, None] - t[None, :], 0)  # (T, T) t - s for s <= t
    return (maps * distance).sum(-1).mean(-1)  # (L, H)


def frames(cfg: Config) -> Iterator[Frame]:
    import torch

    from genailab.lm import CharTokenizer, attention_maps, logit_lens, train

    text, following = reading(cfg)
    tok = CharTokenizer.fit(_train_text(cfg.corpus))  # the tokenizer train() fits
    ids = tok.encode(text)  # (T,)
    T, L, H = len(ids), cfg.n_layer, cfg.n_head
    targets = np.full(T, -1, dtype=np.int64)  # the true next character at each position
    targets[:-1] = ids[1:]
    if following is not None and following in tok.chars:
        targets[-1] = tok.encode(following)[0]
    snapshots: list[dict[str, Any]] = []

    def watch(snapshot: Any) -> None:
        maps = attention_maps(snapshot.model, ids).float().numpy()  # (L, H, T, T)
        probs = logit_lens(snapshot.model, ids).exp().float().numpy()  # (L+1, T, V)
        snapshots.append({"iter": snapshot.iter, "maps": maps, "probs": probs,
                          "history": [dict(h) for h in snapshot.history]})  # fmt: skip

    with tempfile.TemporaryDirectory() as out, torch.random.fork_rng():
        summary = train(out=out, on_eval=watch, **train_settings(cfg))
    history = np.array([[h["iter"], h["train_loss"], h["val_loss"]] for h in summary["history"]])
    final = snapshots[-1]
    maps, probs = final["maps"], final["probs"]
    reach = _reach(maps)  # (L, H)
    far = np.unravel_index(int(np.argmax(reach)), reach.shape)  # the head reading furthest back
    known = targets >= 0
    p_true = np.where(known, probs[:, np.arange(T), np.maximum(targets, 0)], np.nan)  # (L+1, T)
    text_fields = {
        "line": text,
        "vocab": tok.chars,
        "iters": str(cfg.iters),
        "top_k": str(cfg.top_k),
    }

    def make(step: int, snap: dict, phase: str, focus: tuple[int, int, int, int]) -> Frame:
        """A frame showing head ``focus[:2]`` and the lens at position ``focus[2]`` up to
        stage ``focus[3]`` (exclusive) of snapshot ``snap``."""
        position = focus[2]
        here = snap["probs"][:, position]  # (L+1, V)
        scalars = {
            "val_loss": snap["history"][-1]["val_loss"],
            "train_loss": snap["history"][-1]["train_loss"],
        }
        if targets[position] >= 0:
            scalars["p_true"] = float(here[-1, targets[position]])
        return Frame(
            step=step,
            arrays={
                "maps": snap["maps"],
                "probs": here,
                "ids": ids,
                "targets": targets,
                "focus": np.array(focus),
                "history": history[: len(snap["history"])],
            },
            scalars=scalars,
            text={**text_fields, "phase": phase},
            caption=caption(phase),
        )

    focus = (int(far[0]), int(far[1]))
    # 1. training: the maps, and the lens at the last position, take shape
    for snap in snapshots:
        yield make(snap["iter"], snap, "train", (*focus, T - 1, L + 1))
    step = cfg.iters + 1
    # 2. the sweep: every head in turn; the lens at the last position fills in block by block
    for layer in range(L):
        for head in range(H):
            for _ in range(cfg.hold):
                yield make(step, final, "sweep", (layer, head, T - 1, layer + 1))
                step += 1
    for _ in range(3 * cfg.hold):  # the key picture: hold it
        yield make(step, final, "lens", (L - 1, H - 1, T - 1, L + 1))
        step += 1
    # 3. reading the line one position at a time with the head that reads furthest back,
    # ending on the last position, whose prediction is the next character
    for t in range(T - 1):
        for _ in range(_read_hold(cfg)):
            yield make(step, final, "read", (*focus, t, L + 1))
            step += 1
    for _ in range(2 * cfg.hold - 1):
        yield make(step, final, "read", (*focus, T - 1, L + 1))
        step += 1
    # the final figures: the model, and how sure of the true next character each stage is
    entropy = _entropy_bits(maps)  # (L,)
    stages = ["embeddings"] + [f"block{i + 1}" for i in range(L)]
    figures: dict[str, float] = {
        "val_loss": summary["val_loss"],
        "train_loss": summary["train_loss"],
        "iters": summary["iters"],
        "line_loss": float(-np.log(p_true[-1, known]).mean()),
    }
    if known[-1]:
        figures |= {f"p_next_{s}": float(p_true[i, -1]) for i, s in enumerate(stages)}
    figures |= {f"p_line_{s}": float(np.nanmean(p_true[i])) for i, s in enumerate(stages)}
    figures |= {f"attention_entropy_bits_layer{i + 1}": float(e) for i, e in enumerate(entropy)}
    # Stage-independent names, so one answer and one set of claims serve every size of model.
    figures["p_line_output"] = figures[f"p_line_{stages[-1]}"]
    figures["uniform_loss"] = float(np.log(len(tok.chars)))  # nats: every character equally
    figures["attention_entropy_bits"] = float(entropy.mean())
    # a row at position t that spreads evenly over the t + 1 characters it may read
    figures["uniform_entropy_bits"] = float(np.log2(np.arange(1, T + 1)).mean())
    figures |= {"reach_layer": focus[0] + 1, "reach_head": focus[1] + 1}
    figures["reach_chars"] = float(reach[focus])
    last = make(step, final, "read", (*focus, T - 1, L + 1))
    last.scalars = figures
    last.poster = True
    yield last


# ------------------------------------------------------------------------------- drawing
def _setup(canvas: Canvas, frame: Frame) -> dict:
    import matplotlib
    from matplotlib.colors import PowerNorm
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import blended_transform_factory

    fig = canvas.figure
    a = frame.arrays
    L, H, T, _ = a["maps"].shape
    chars = [show(c) for c in frame.text["line"]]
    art: dict = {
        # below the runner's title band, which carries the caption of each stretch
        "title": fig.text(0.03, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK),
        "info": fig.text(0.03, 0.835, "", fontsize=SMALL_SIZE + 1, color=MUTED),
    }
    live: list = [art["title"], art["info"]]
    # the big map: one head, the characters of the line on both axes
    side = 0.68 * canvas.height / canvas.width
    ax = fig.add_axes((0.085, 0.1, side, 0.68))
    style_axes(ax)
    norm = PowerNorm(0.5, vmin=0.0, vmax=1.0)  # small weights stay visible
    future = np.triu(np.ones((T, T), dtype=bool), 1)  # (T, T) masked: drawn pale grey
    art["future"] = future
    blank = np.ma.masked_array(np.zeros((T, T)), future)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#f2f2f2")  # the future: pale grey
    art["image"] = ax.imshow(blank, cmap=cmap, norm=norm, interpolation="nearest")
    size = max(5, min(9, int(330 / T)))
    ax.set_xticks(range(T), chars, fontsize=size, family="monospace")
    ax.set_yticks(range(T), chars, fontsize=size, family="monospace")
    ax.tick_params(length=0, pad=1.5)
    ax.set_xlabel("reads from", fontsize=SMALL_SIZE + 1, labelpad=2)
    ax.set_ylabel("reading at", fontsize=SMALL_SIZE + 1, labelpad=2)
    # NOTE: titles as plain texts: set_title would move a live title above the bars' extents
    art["map_title"] = ax.text(
        0.0, 1.015, "", transform=ax.transAxes, fontsize=SMALL_SIZE + 2, color=INK, va="bottom"
    )
    art["row"] = ax.add_patch(
        Rectangle((-0.5, T - 1.5), T, 1, fill=False, edgecolor=MARK, lw=1.8, zorder=5)
    )
    live += [art["image"], art["map_title"], art["row"]]
    bar_ax = fig.add_axes((0.085 + side + 0.012, 0.1, 0.009, 0.68))
    colorbar = fig.colorbar(art["image"], cax=bar_ax, ticks=[0, 0.05, 0.25, 0.5, 1])
    colorbar.ax.tick_params(labelsize=SMALL_SIZE - 1, colors=MUTED, length=2)
    colorbar.outline.set_visible(False)
    # the grid of every head
    x0, x1, y0, y1 = 0.6, 0.975, 0.5, 0.78  # the box the grid fits in, centred
    gap = 8  # pixels between thumbnails
    cell = min(
        ((x1 - x0) * canvas.width - (H - 1) * gap) / H,
        ((y1 - y0) * canvas.height - (L - 1) * gap) / L,
        90,
    )
    w, h = cell / canvas.width, cell / canvas.height
    gap_x, gap_y = gap / canvas.width, gap / canvas.height
    x0 += ((x1 - x0) - H * w - (H - 1) * gap_x) / 2
    art["thumbs"], art["spines"] = [], []
    for layer in range(L):
        for head in range(H):
            thumb = fig.add_axes((x0 + head * (w + gap_x), y1 - h - layer * (h + gap_y), w, h))
            thumb.set_xticks([])
            thumb.set_yticks([])
            image = thumb.imshow(
                blank, cmap="viridis", norm=norm, interpolation="nearest", aspect="auto"
            )
            spines = list(thumb.spines.values())
            art["thumbs"].append(image)
            art["spines"].append(spines)
            live += [image, *spines]
            if head == 0:
                thumb.set_ylabel(f"layer {layer + 1}", fontsize=SMALL_SIZE, color=MUTED)
            if layer == 0:
                thumb.text(
                    0.5,
                    1.04,
                    f"head {head + 1}",
                    transform=thumb.transAxes,
                    ha="center",
                    va="bottom",
                    fontsize=SMALL_SIZE,
                    color=MUTED,
                )
    # the logit lens: the top guesses for the next character after each stage
    k = min(int(frame.text["top_k"]), len(frame.text["vocab"]))
    art["lens_title"] = fig.text(0.545, 0.425, "", fontsize=SMALL_SIZE + 2, color=INK)
    live.append(art["lens_title"])
    stages = ["embeddings"] + [f"block {i + 1}" for i in range(L)]
    stages[-1] += " = output" if L < 4 else ""
    n = L + 1
    lx0, lx1, ly0, ly1 = 0.58, 0.975, 0.1, 0.36
    gap = 0.03
    pw = ((lx1 - lx0) - (n - 1) * gap) / n
    art["lens"] = []
    for i, name in enumerate(stages):
        pax = fig.add_axes((lx0 + i * (pw + gap), ly0, pw, ly1 - ly0))
        style_axes(pax)
        bars = pax.barh(range(k), np.zeros(k), color=BAR, height=0.72, linewidth=0)
        pax.set(xlim=(0, 1), ylim=(k - 0.5, -0.5))
        pax.set_xticks([0, 0.5, 1], ["0", ".5", "1"])
        pax.set_yticks([])
        left = blended_transform_factory(pax.transAxes, pax.transData)
        panel = {
            "bars": list(bars),
            "title": pax.text(
                0.5,
                1.03,
                name,
                transform=pax.transAxes,
                ha="center",
                va="bottom",
                fontsize=SMALL_SIZE,
                color=INK,
            ),
            "labels": [
                pax.text(
                    -0.04,
                    j,
                    "",
                    transform=left,
                    ha="right",
                    va="center",
                    fontsize=SMALL_SIZE + 2,
                    family="monospace",
                    color=INK,
                )
                for j in range(k)
            ],
        }
        art["lens"].append(panel)
        live += [*panel["bars"], panel["title"], *panel["labels"]]
    art["k"] = k
    freeze_background(fig, live)
    return art


def _ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else "\u2026" + text[-(width - 1) :]


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, phase = frame.arrays, frame.text["phase"]
    maps, probs, targets = a["maps"], a["probs"], a["targets"]
    layer, head, position, stages = (int(v) for v in a["focus"])
    L, H, T, _ = maps.shape
    vocab, line = frame.text["vocab"], frame.text["line"]
    future = art["future"]
    art["image"].set_data(np.ma.masked_array(maps[layer, head], future))
    for i, (image, spines) in enumerate(zip(art["thumbs"], art["spines"], strict=True)):
        image.set_data(np.ma.masked_array(maps[i // H, i % H], future))
        focused = i == layer * H + head
        for spine in spines:
            spine.set_color(MARK if focused else "#cccccc")
            spine.set_linewidth(2.4 if focused else 0.8)
    art["row"].set_y(position - 0.5)
    art["row"].set_width(position + 1)
    art["map_title"].set_text(f"layer {layer + 1}, head {head + 1}")
    # the lens at this position: the top guesses after each stage shown so far
    target = int(targets[position])
    k = art["k"]
    for i, panel in enumerate(art["lens"]):
        shown = i < stages
        p = probs[i]
        top = np.argsort(-p, kind="stable")[:k]
        if target >= 0 and target not in top:  # the last row shows the truth instead
            top[-1] = target
        for j, c in enumerate(top):
            width = p[c] if shown else 0.0
            panel["bars"][j].set_width(width)
            panel["bars"][j].set_visible(shown)
            panel["bars"][j].set_color(TRUE if c == target else BAR)
            panel["labels"][j].set_text(show(vocab[c]) if shown else "")
            panel["labels"][j].set_color(TRUE if c == target else INK)
        panel["title"].set_color(INK if shown else "#c8c8c8")
    so_far = _ellipsis("".join(show(c) for c in line[: position + 1]), 16)
    nxt = show(vocab[target]) if target >= 0 else "?"
    art["lens_title"].set_text(
        f"Logit lens: next after \u201c{so_far}\u201d (true \u201c{nxt}\u201d)"
    )
    hist = a["history"]
    it, val = int(hist[-1, 0]), hist[-1, 2]
    art["info"].set_text(
        f"GPT: {L} layers \u00d7 {H} heads, step {it} of {frame.text['iters']}, validation loss "
        f"{val:.3f} nats per character"
    )
    best = int(probs[-1].argmax())
    if phase == "train":
        title = f"Training, step {it}: the attention maps take shape"
    elif phase == "sweep":
        title = f"Layer {layer + 1}, head {head + 1}: where each character looks"
    elif phase == "lens":
        title = "The next character: the last row, read after each block"
    else:
        title = (
            f"Position {position + 1} of {T}: the model says \u201c{show(vocab[best])}\u201d "
            f"({probs[-1, best]:.0%})"
        )
        if target == best:
            title += ", and it is right"
        elif target >= 0:
            title += f"; the truth \u201c{nxt}\u201d had {probs[-1, target]:.0%}"
    art["title"].set_text(title)
