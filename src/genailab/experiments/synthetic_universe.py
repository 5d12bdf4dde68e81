"""A synthetic universe after Vincent Granville ("Synthetic Data and Generative AI"; his
1-minute data videos): a spinning disc of stars pulls on itself with the force law
`a_i = G sum_j m_j (r_j - r_i) / (d^2 + eps^2)^(p/2)`, `p = 3` being softened Newton and
`p = 0.5` or `-0.5` his exotic laws where the pull grows with distance. Blue stars have positive
mass and red ones negative mass, which flips the sign of every pull they take part in: a
negative star is drawn towards positive ones, which flee it. Stars that come close merge, with a
ring flashing where it happens, and the merged star grows with the sum of the masses, keeping
the total momentum exactly (Granville's original does not): here {merges:.0f} of the
{stars:.0f} stars were absorbed, and the largest mass grew from {start_max_mass:.1f} to
{max_mass:.1f}. The panels follow the number of stars, the largest mass, the energy (mergers
change it; the integrator keeps what is left, to within {energy_drift:.1e} of its scale) and the
momentum error, which stays at round-off ({momentum_drift:.0e}). The last frames draw the
collision graph, who absorbed whom, at the stars' starting places: each of the
{merger_trees:.0f} merger trees is a colour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from genailab.lab.claims import Claim
from genailab.lab.frame import Frame
from genailab.lab.registry import experiment
from genailab.settings import seed_setting, setting
from genailab.video import Canvas
from genailab.video.style import INK, LABEL_SIZE, MUTED, PALETTE, SMALL_SIZE, style_axes

MASS_MEAN, MASS_SD = 1.25, 0.75  # Granville's N(1.25, 0.75) for the mass magnitudes
RADIUS = 1.0  # the starting disc
VIEW = 1.6 * RADIUS  # half-width of the fixed view
GRAPH_SHARE = 0.1  # share of the video spent drawing the collision graph


@experiment(
    name="synthetic-universe",
    chapter="Granville's data videos",
    title="A synthetic universe with negative masses and mergers",
    seconds=(40, 15),
)
@dataclass
class Config:
    stars: int = setting(600, help="stars in the starting disc", ge=2, le=10_000)
    steps: int = setting(1500, help="leapfrog time steps of the simulation", ge=1, le=100_000)
    law: float = setting(
        3.0,
        help="exponent p in (d^2 + eps^2)^(p/2): 3 is Newton; below 1 the pull grows with d",
        ge=-5,
        le=5,
    )
    negative_share: float = setting(
        0.05,
        help="share of stars with negative mass (N(1.25, 0.75) masses give ~5%)",
        ge=0,
        le=1,
    )
    repulsive: bool = setting(False, help="G < 0: like-signed masses repel instead of attract")
    spin: float = setting(
        1.0,
        help="starting rotation rate of the disc (1 roughly balances the pull)",
        ge=-10,
        le=10,
    )
    dt: float = setting(0.002, help="time step of the integrator", gt=0, le=1)
    softening: float = setting(
        0.05, help="softening length eps that keeps the pull of close stars finite", ge=0, le=1
    )
    merge_distance: float = setting(
        0.02, help="stars closer than this merge; 0 turns mergers off", ge=0, le=1
    )
    frames: int = setting(
        150, help="frames of simulation, plus about 10% for the collision graph", ge=2, le=9000
    )
    threads: int = setting(
        1, help="torch threads on the cpu (one is fastest at these sizes)", ge=1, le=256
    )
    device: Literal["cpu", "auto", "cuda", "mps"] = setting(
        "cpu", help="torch device; cpu (the default) gives the same frames on every machine"
    )
    seed: int = seed_setting()
    QUICK = dict(stars=200, steps=240, dt=0.005, frames=24)

    def __post_init__(self) -> None:
        if self.device == "cpu":
            return  # torch takes seconds to import: only another device is checked here
        from genailab.device import DeviceUnavailableError, resolve_device

        try:  # a device this machine lacks is refused before the run starts
            resolve_device(self.device, float64=True)  # the universe runs in float64
        except DeviceUnavailableError as err:
            raise ValueError(str(err)) from None


QUESTION = (
    "When the stars of a spinning disc merge as they collide, what do the mergers build, and "
    "what do they keep?"
)
ANSWER = (
    "{merges:.0f} of {stars:.0f} stars merged into others, in {merger_trees:.0f} merger trees; "
    "the largest mass grew {mass_growth:.0f}-fold; momentum error {momentum_drift:.0e}"
)
CLAIMS = (
    Claim("merges > stars_alive", "most stars end inside another: more were absorbed than survive"),
    Claim(
        "max_mass > 5 * start_max_mass",
        "the largest star ends over 5 times heavier than the heaviest at the start",
    ),
    Claim("momentum_drift < 1e-12", "every merger keeps the total momentum, to round-off"),
    Claim(
        "energy_drift < 0.003",
        "net of what mergers change, the integrator keeps the energy within 0.3%",
    ),
)


def caption(share: float, graph: bool = False) -> str:
    """The message of the stretch a frame falls in: ``share`` of the simulated steps done, or
    the collision graph."""
    if graph:
        return "The collision graph: who absorbed whom, drawn where each star started"
    if share < 0.2:
        return "A spinning disc of stars pulls on itself; red stars have negative mass"
    if share < 0.5:
        return "Stars that come close merge (green rings), and the merged star grows"
    return "Through every merger the momentum stays exact, and the energy net of them flat"


def memory_bytes(cfg: Config) -> int:
    """The peak bytes of the frames: the (N, N) float64 tensors of the pairwise force, that is
    the separations (2 N^2 numbers in 2-D), the squared distances and two work buffers, kept
    between steps (5 N^2), plus about 4 N^2 more while the energy is measured (at each frame and
    each merger). They live on the torch device: on a GPU this overstates what the host needs."""
    return 8 * 9 * cfg.stars**2


def _graph_frames(cfg: Config) -> int:
    return max(3, round(GRAPH_SHARE / (1 - GRAPH_SHARE) * cfg.frames))


def frame_count(cfg: Config) -> int:
    """The simulation frames (the start, then one per recorded step) and the graph frames."""
    every = max(1, cfg.steps // cfg.frames)
    return 1 + -(-cfg.steps // every) + _graph_frames(cfg)


def frames(cfg: Config) -> Iterator[Frame]:
    # Imported here: torch takes seconds to import, and the registry imports every experiment.
    import torch

    from genailab.simulate import Universe, connected_components

    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        yield from _frames(cfg, Universe, connected_components)
    finally:
        torch.set_num_threads(threads)


def _frames(cfg: Config, Universe, connected_components) -> Iterator[Frame]:
    G = (-1.0 if cfg.repulsive else 1.0) / (cfg.stars * MASS_MEAN)  # G * total mass ~ 1
    universe = Universe(
        cfg.stars,
        mass_mean=MASS_MEAN,
        mass_sd=MASS_SD,
        negative_share=cfg.negative_share,
        law=cfg.law,
        G=G,
        softening=cfg.softening,
        dt=cfg.dt,
        merge_distance=cfg.merge_distance,
        radius=RADIUS,
        velocity_sd=0.05,
        spin=cfg.spin,
        device=cfg.device,
        track_energy=True,
        random_state=cfg.seed,
    ).initialize()
    every = max(1, cfg.steps // cfg.frames)
    count = 1 + -(-cfg.steps // every)
    # Histories fill preallocated arrays; each frame holds views of the rows written so far.
    names = ("time", "alive", "max_mass", "energy", "energy_kept", "momentum_error")
    history = {name: np.full(count, np.nan) for name in names}
    start = universe.state()
    start_positions, start_masses = start.positions, start.masses  # (N, 2), (N,)
    start_max_mass = float(np.abs(start_masses).max())
    total_time = cfg.steps * cfg.dt
    scales = {}
    scalars: dict[str, float] = {}
    for k, state in enumerate(universe.run(cfg.steps, record_every=every, energy=True)):
        if k == 0:
            scales["energy"] = abs(state.kinetic) + abs(state.potential)
            scales["energy0"] = state.energy
            scales["momentum0"] = state.momentum
            scales["momentum"] = 0.0
        # |P - P0| relative to sum |m| |v|, the size momentum errors are measured against
        speeds = np.linalg.norm(state.velocities, axis=1)  # (n,)
        scales["momentum"] = max(scales["momentum"], float(np.abs(state.masses) @ speeds))
        momentum_error = np.linalg.norm(state.momentum - scales["momentum0"]) / scales["momentum"]
        kept = state.energy - state.merge_energy  # what the integrator alone should conserve
        row = (state.time, len(state.ids), np.abs(state.masses).max(), state.energy, kept)
        for name, value in zip(names, (*row, momentum_error), strict=True):
            history[name][k] = value
        # where this frame's mergers happened: at the absorbers, which kept their ids (an
        # absorber swallowed in turn before this frame shows at its own absorber's place)
        absorbers = state.merges[np.isin(state.merges[:, 0], state.ids), 0]
        where = np.searchsorted(state.ids, absorbers)  # ids stay sorted: rows are only dropped
        scalars = {
            "stars": cfg.stars,
            "stars_alive": len(state.ids),
            "merges": cfg.stars - len(state.ids),
            "max_mass": float(np.abs(state.masses).max()),
            "start_max_mass": start_max_mass,
            "mass_growth": float(np.abs(state.masses).max()) / start_max_mass,
            "momentum_drift": float(np.nanmax(history["momentum_error"][: k + 1])),
            "energy_drift": float(
                np.nanmax(np.abs(history["energy_kept"][: k + 1] - scales["energy0"]))
                / scales["energy"]
            ),
        }
        yield Frame(
            step=state.step,
            arrays={
                "positions": state.positions,
                "masses": state.masses,
                "flashes": state.positions[where],
                **{name: values[: k + 1] for name, values in history.items()},
                "total_time": np.array(total_time),
            },
            scalars=scalars,
            text={"law": f"{cfg.law:g}", "phase": "universe"},
            caption=caption(state.step / cfg.steps),
            poster=state.step == cfg.steps,
        )

    # The collision graph, edges appearing in the order the mergers happened.
    edges = universe.collision_edges_  # (E, 3): absorber, absorbed, step
    labels = connected_components(edges, cfg.stars)  # (N,)
    roots, tree = np.unique(labels[edges[:, 0]], return_inverse=True) if len(edges) else ([], [])
    sizes = np.bincount(labels, minlength=cfg.stars)  # (N,) stars per tree, at each root
    segments = np.stack([start_positions[edges[:, 0]], start_positions[edges[:, 1]]], 1)
    survivors = universe.state()
    graph_scalars = {**scalars, "merger_trees": len(roots), "largest_tree": int(sizes.max())}
    shown = _graph_frames(cfg)
    for g in range(shown):
        upto = round(len(edges) * (g + 1) / shown)
        yield Frame(
            step=cfg.steps,
            arrays={
                "start_positions": start_positions,
                "start_masses": start_masses,
                "segments": segments[:upto],  # (e, 2, 2)
                "tree": np.asarray(tree)[:upto],  # (e,) merger tree of each edge
                "survivors": start_positions[survivors.ids],
                "survivor_masses": survivors.masses,
                **{name: values for name, values in history.items()},
                "total_time": np.array(total_time),
            },
            scalars=graph_scalars,
            text={"law": f"{cfg.law:g}", "phase": "graph", "until": f"{edges[upto - 1, 2]}"}
            if upto
            else {"law": f"{cfg.law:g}", "phase": "graph", "until": "0"},
            caption=caption(1.0, graph=True),
        )


# ------------------------------------------------------------------------------- drawing
POSITIVE, NEGATIVE, FLASH = PALETTE[0], PALETTE[3], PALETTE[2]
TREE_COLOURS = np.array([PALETTE[i] for i in (1, 2, 4, 5, 7)])  # not the two mass colours
GRAPH_KEY = ("\u25cf survivor", "\u2014 merger (colour = tree)", "\u00b7 starting place")


def _sizes(masses: np.ndarray) -> np.ndarray:
    return np.clip(6.0 * np.abs(masses), 2.0, 900.0)  # marker area ~ |mass|


def _colours(masses: np.ndarray) -> np.ndarray:
    return np.where(masses >= 0, POSITIVE, NEGATIVE)


def _setup(canvas: Canvas, frame: Frame) -> dict:
    from matplotlib.collections import LineCollection

    fig = canvas.figure
    main = fig.add_axes((0.02, 0.03, 0.50, 0.81))  # under the readout, itself under the band
    main.set(xlim=(-VIEW, VIEW), ylim=(-VIEW, VIEW), xticks=[], yticks=[], aspect="equal")
    for side in main.spines.values():
        side.set_color(MUTED)
    stars = main.scatter([], [], s=[], linewidths=0, alpha=0.85, zorder=3)
    rings = main.scatter([], [], s=260, facecolors="none", edgecolors=FLASH, lw=2.0, zorder=4)
    graph = LineCollection([], linewidths=1.2, alpha=0.9, zorder=2)
    main.add_collection(graph)
    starts = main.scatter([], [], s=4, color=MUTED, linewidths=0, zorder=1)
    # A key in plain text: legends cost more to draw than the rest of the frame.
    key_texts = [
        main.text(x, 0.02, label, color=colour, fontsize=SMALL_SIZE + 1, transform=main.transAxes)
        for x, label, colour in (
            (0.02, "\u25cf positive mass", POSITIVE),
            (0.31, "\u25cf negative mass", NEGATIVE),
            (0.61, "\u25cb merger (this frame)", FLASH),
        )
    ]
    title = fig.text(0.02, 0.875, "", fontsize=LABEL_SIZE + 1, color=INK)  # below the band
    total_time = float(frame.arrays["total_time"])
    panels = {}
    specs = (
        ("alive", "stars alive"),
        ("max_mass", "largest |mass|"),
        ("energy", "energy: total (orange), net of mergers (dashed)"),
        ("momentum_error", "momentum error |P - P0| / sum |m v|"),
    )
    for row, (key, label) in enumerate(specs):
        ax = fig.add_axes((0.60, 0.70 - row * 0.205, 0.37, 0.13))
        style_axes(ax)
        ax.text(0, 1.06, label, fontsize=SMALL_SIZE + 1, color=INK, transform=ax.transAxes)
        ax.locator_params(axis="y", nbins=3)
        ax.set_xlim(0, total_time)
        if row < 3:
            ax.set_xticklabels([])
        panels[key] = ax
    panels["momentum_error"].set_xlabel("simulated time")
    panels["momentum_error"].set(yscale="log", ylim=(1e-18, 1e-10), yticks=[1e-17, 1e-14, 1e-11])
    lines = {
        "alive": panels["alive"].plot([], [], color=PALETTE[0], lw=1.8)[0],
        "max_mass": panels["max_mass"].plot([], [], color=PALETTE[4], lw=1.8)[0],
        "energy": panels["energy"].plot([], [], color=PALETTE[1], lw=1.8)[0],
        "energy_kept": panels["energy"].plot([], [], color=INK, lw=1.2, ls="--")[0],
        "momentum_error": panels["momentum_error"].plot([], [], color=PALETTE[2], lw=1.8)[0],
    }
    return {
        "stars": stars,
        "rings": rings,
        "graph": graph,
        "starts": starts,
        "title": title,
        "key": key_texts,
        "panels": panels,
        "lines": lines,
        "count": int(frame.arrays["positions"].shape[0]),
    }


def _draw_panels(art: dict, a: dict[str, np.ndarray]) -> None:
    t = a["time"]
    for key, line in art["lines"].items():
        values = a[key]
        if key == "momentum_error":
            values = np.maximum(values, 1e-17)  # an exact zero still shows, at the floor
        line.set_data(t, values)
    panels = art["panels"]
    panels["alive"].set_ylim(0, art["count"] * 1.05)
    panels["max_mass"].set_ylim(0, 1.1 * np.nanmax(a["max_mass"]))
    both = np.concatenate([a["energy"], a["energy_kept"]])
    low, high = np.nanmin(both), np.nanmax(both)
    pad = 0.1 * (high - low) + 1e-9 * max(1.0, abs(high))
    panels["energy"].set_ylim(low - pad, high + pad)


def draw(frame: Frame, canvas: Canvas) -> None:
    art = canvas.store.get("art") or canvas.store.setdefault("art", _setup(canvas, frame))
    a, law = frame.arrays, frame.text["law"]
    _draw_panels(art, a)
    if frame.text["phase"] == "universe":
        masses = a["masses"]
        art["stars"].set_offsets(a["positions"])
        art["stars"].set_sizes(_sizes(masses))
        art["stars"].set_color(_colours(masses))
        art["rings"].set_offsets(a["flashes"].reshape(-1, 2))
        negative = int((masses < 0).sum())
        art["title"].set_text(
            f"Force law p = {law}, time {a['time'][-1]:.2f}: {len(masses)} stars "
            f"({negative} negative), {frame.scalars['merges']:.0f} mergers so far"
        )
        return
    # The collision graph: merger lines between starting places, one colour per tree.
    art["rings"].set_offsets(np.zeros((0, 2)))
    art["starts"].set_offsets(a["start_positions"])
    art["graph"].set_segments(a["segments"])
    art["graph"].set_color(TREE_COLOURS[a["tree"] % len(TREE_COLOURS)])
    art["stars"].set_offsets(a["survivors"])
    art["stars"].set_sizes(_sizes(a["survivor_masses"]))
    art["stars"].set_color(_colours(a["survivor_masses"]))
    art["stars"].set_alpha(0.35)
    for text, label, x in zip(art["key"], GRAPH_KEY, (0.02, 0.22, 0.68), strict=True):
        text.set_text(label)
        text.set_x(x)
        text.set_color(INK if label[0] == "\u2014" else MUTED)
    art["title"].set_text(
        f"Collision graph up to step {frame.text['until']}: {len(a['segments'])} mergers in "
        f"{frame.scalars['merger_trees']:.0f} trees"
    )
