"""A synthetic universe: stars of positive and negative mass, a tunable force law, and mergers.

After Vincent Granville's star-cluster simulation ("synthetic universe") in *Synthetic Data and
Generative AI* and his "GenAI & ML concepts in 1-minute data videos"; the code is our own.

The physics, pinned down
------------------------
Star ``i`` has position ``r_i`` and velocity ``v_i`` (2-D by default, as in his videos;
``dim=3`` works the same way) and a mass ``m_i`` that may be negative. Its acceleration is ::

    a_i = G * sum_j m_j (r_j - r_i) / (d_ij^2 + eps^2)^(p/2),     d_ij = |r_j - r_i|

with ``p = law``. ``p = 3`` is Newton's inverse-square law, softened by ``eps`` (the
softening keeps close encounters finite); Granville also plays with exotic laws such as
``p = 0.5`` and ``p = -0.5``, where the pull *grows* with distance. ``G > 0`` attracts and
``G < 0`` repels (between positive masses).

NOTE: ``a_i`` does not contain ``m_i``: the formula treats gravitational and inertial mass as
the same number, so a negative mass is pushed *against* the force it feels. Between a positive
and a negative mass the sign of the pull flips, and a ``+m, -m`` pair chases itself forever
(Bondi's runaway: the positive mass flees, the negative one follows, both accelerate the same
way). Multiplying the formula by ``m_i`` gives forces ``F_ij = -F_ji``, so total momentum
``sum m_i v_i`` is conserved with negative masses too; and the force is minus the gradient of ::

    U = sum_{i<j} m_i m_j phi(d_ij^2 + eps^2),
    phi(s) = G s^(1 - p/2) / (2 - p)   (p != 2),      phi(s) = (G / 2) log s   (p = 2),

so ``E = sum_i m_i |v_i|^2 / 2 + U`` is conserved (kinetic energy is negative for a negative
mass). For ``p = 3`` this is the familiar ``-G m_i m_j / sqrt(d^2 + eps^2)``.

Integrator: leapfrog kick-drift-kick (half kick ``v += a dt/2``, drift ``r += v dt``, new
accelerations, half kick). It is symplectic and second order: the energy error stays bounded
over long runs, with an amplitude that falls as ``dt^2``.

Mergers: at the end of each step, two live stars closer than ``merge_distance`` merge.
Detection is vectorised over all pairs; conflicts are resolved deterministically: pairs are
ranked by distance (ties by the lower, then the higher index) and a pair merges when it is the
first ranked pair of *both* its stars ("mutual closest"). A star thus merges at most once per
step, a chain ``A - B - C`` resolves over successive steps, and the closest pair always merges,
so close pairs never wait forever. The star of larger ``|mass|`` absorbs the other (the lower
index on a tie) and keeps its id; the merged star gets

* mass ``m = m_a + m_b``;
* velocity ``v = (m_a v_a + m_b v_b) / m``: momentum is conserved exactly (Granville's original
  merges stars without conserving momentum);
* position ``(|m_a| r_a + |m_b| r_b) / (|m_a| + |m_b|)``, the centre of mass for same-sign
  pairs; ``|m|`` weights keep it on the segment between the two stars when signs differ.

NOTE: a pair of opposite signs can nearly cancel, and ``v = p / m`` would then blow up. Such a
pair does not merge: merging needs ``|m_a + m_b| >= min_merged_fraction * (|m_a| + |m_b|)``
(and ``m_a + m_b != 0``), which bounds the merged speed by
``max(|v_a|, |v_b|) / min_merged_fraction``. The two stars pass through each other instead.

Everything runs in torch, O(N^2) pairwise in a few tensor operations per step, on the GPU when
one is present (``device="auto"``), in float64 by default; the pairwise buffers take
``(dim + 3) N^2`` numbers (about 40 MB for 1,000 stars in 2-D).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from genailab.device import resolve_device

__all__ = [
    "Universe",
    "UniverseState",
    "connected_components",
    "draw_masses",
    "pair_potential",
    "trajectories",
]


@dataclass(frozen=True)
class UniverseState:
    """A snapshot of the live stars (numpy arrays on the CPU).

    Attributes
    ----------
    step, time : int, float
        Steps taken so far and the simulated time ``step * dt``.
    ids : ndarray of shape (n,)
        Original index of each live star (an absorber keeps its own id).
    positions, velocities : ndarray of shape (n, dim)
    masses : ndarray of shape (n,)
    merges : ndarray of shape (k, 3)
        The mergers since the previous snapshot, rows ``(absorber id, absorbed id, step)``.
    momentum : ndarray of shape (dim,)
        Total momentum ``sum m_i v_i``.
    kinetic, potential : float or None
        The two parts of the energy, when the snapshot was asked to compute them.
    merge_energy : float
        The universe's ``merge_energy_`` at this step.
    """

    step: int
    time: float
    ids: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    masses: np.ndarray
    merges: np.ndarray
    momentum: np.ndarray
    kinetic: float | None = None
    potential: float | None = None
    merge_energy: float = 0.0

    @property
    def energy(self) -> float | None:
        """Kinetic plus potential energy (None when not computed)."""
        if self.kinetic is None or self.potential is None:
            return None
        return self.kinetic + self.potential


# ------------------------------------------------------------------------------ helpers
def pair_potential(s, law: float, G: float = 1.0):
    """The pair potential ``phi(s)`` whose gradient gives the force law, ``s = d^2 + eps^2``.

    ``phi(s) = G s^(1 - p/2) / (2 - p)`` for ``p != 2`` and ``(G / 2) log s`` for ``p = 2``;
    the potential energy of a pair is ``m_i m_j phi(s)``.

    Examples
    --------
    >>> float(pair_potential(torch.tensor(4.0), law=3.0))   # Newton: -G / d
    -0.5
    >>> float(pair_potential(np.float64(4.0), law=0.0))     # harmonic: G d^2 / 2
    2.0
    """
    if law == 2.0:
        return 0.5 * G * (torch.log(s) if isinstance(s, torch.Tensor) else np.log(s))
    return G * s ** (1.0 - law / 2.0) / (2.0 - law)


def draw_masses(
    n: int,
    rng: np.random.Generator,
    mass_mean: float = 1.25,
    mass_sd: float = 0.75,
    negative_share: float | None = None,
) -> np.ndarray:
    """Star masses: Granville's ``N(1.25, 0.75)`` (about 4.8% negative), or a set share negative.

    With ``negative_share=None`` masses are drawn from ``N(mass_mean, mass_sd)`` and the
    negative ones are whatever falls below zero. With a share, magnitudes are drawn from
    ``|N(mass_mean, mass_sd)|`` and exactly ``round(negative_share * n)`` stars, chosen at
    random, are made negative.

    Examples
    --------
    >>> m = draw_masses(1000, np.random.default_rng(0), negative_share=0.2)
    >>> m.shape, int((m < 0).sum())
    ((1000,), 200)
    """
    if negative_share is None:
        return rng.normal(mass_mean, mass_sd, size=n)
    magnitudes = np.abs(rng.normal(mass_mean, mass_sd, size=n))  # (n,)
    signs = np.ones(n)
    signs[rng.permutation(n)[: round(negative_share * n)]] = -1.0
    return signs * magnitudes


def connected_components(edges: np.ndarray, n_nodes: int) -> np.ndarray:
    """Component labels of a graph on ``n_nodes`` nodes (union-find with path halving).

    Each node gets the smallest node id of its component, so a star that never merged is
    its own component and the labels are deterministic.

    Parameters
    ----------
    edges : array-like of shape (E, 2) or (E, 3)
        Node pairs; a third column (the collision graph's step) is ignored.
    n_nodes : int

    Examples
    --------
    >>> connected_components(np.array([[3, 1, 7], [1, 4, 9]]), 6).tolist()
    [0, 1, 2, 1, 1, 5]
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, np.shape(edges)[-1] if len(edges) else 2)
    parent = list(range(n_nodes))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving keeps the trees shallow
            x = parent[x]
        return x

    # At most n_nodes - 1 merges ever happen, so this loop is short next to the simulation.
    for a, b in edges[:, :2].tolist():
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the smaller id becomes the root
    return np.array([root(x) for x in range(n_nodes)], dtype=np.int64)


def trajectories(states: Sequence[UniverseState], n_stars: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack snapshots into per-star trajectories indexed by original id.

    Returns ``positions`` of shape (T, n_stars, dim) and ``masses`` of shape (T, n_stars),
    NaN where a star has been absorbed.

    Examples
    --------
    >>> u = Universe(5, softening=0.1, dt=0.01, random_state=0)
    >>> r, m = trajectories(list(u.run(10, record_every=5)), 5)
    >>> r.shape, m.shape
    ((3, 5, 2), (3, 5))
    """
    dim = states[0].positions.shape[1]
    positions = np.full((len(states), n_stars, dim), np.nan)  # (T, N, dim)
    masses = np.full((len(states), n_stars), np.nan)  # (T, N)
    for t, state in enumerate(states):
        positions[t, state.ids] = state.positions
        masses[t, state.ids] = state.masses
    return positions, masses


# ----------------------------------------------------------------------------- simulator
class Universe:
    """An N-body universe of positive and negative masses, integrated with leapfrog (KDK).

    See the module docstring for the force law, the energy, and the merger rules.

    Parameters
    ----------
    n_stars : int, default 100
        Number of stars drawn by :meth:`initialize` (ignored when arrays are given there).
    mass_mean, mass_sd : float, default 1.25, 0.75
        Mass distribution ``N(mass_mean, mass_sd)``, Granville's choice (~4.8% negative).
    negative_share : float or None, default None
        If set, masses are ``|N(mass_mean, mass_sd)|`` with exactly this share made negative.
    law : float, default 3.0
        The exponent ``p`` of the force law (3 is softened Newton).
    G : float, default 1.0
        Coupling; negative values make like-signed masses repel.
    softening : float, default 0.05
        ``eps`` in ``(d^2 + eps^2)^(p/2)``; 0 gives the bare law (avoid close encounters).
    dt : float, default 0.01
        Time step.
    merge_distance : float, default 0.0
        Stars closer than this merge; 0 turns mergers off.
    min_merged_fraction : float, default 0.1
        A pair merges only if ``|m_a + m_b| >= min_merged_fraction * (|m_a| + |m_b|)``.
    radius : float, default 1.0
        Stars start uniformly in a disc (ball in 3-D) of this radius.
    velocity_sd : float, default 0.0
        Standard deviation of each initial velocity component.
    spin : float, default 0.0
        Initial solid-body rotation rate about the origin (counter-clockwise, about z in 3-D).
    dim : {2, 3}, default 2
    device : str, default "auto"
        "auto" (cuda when present, else cpu), "cpu", or "cuda[:k]".
    dtype : {"float64", "float32"}, default "float64"
    track_energy : bool, default False
        Measure the energy each merger step changes (two extra O(N^2) passes on those
        steps), so that ``energy - merge_energy_`` is what the integrator alone conserves.
    random_state : int or None, default None
        Seed of the initial conditions.

    Attributes
    ----------
    step_ : int
        Steps taken.
    collision_edges_ : ndarray of shape (E, 3)
        The collision graph: rows ``(absorber id, absorbed id, step)``.
    n_alive_ : int
        Stars still alive.
    merge_energy_ : float
        Total energy change of the mergers so far (0 unless ``track_energy``); mergers are
        inelastic, so this is mostly kinetic energy lost, plus the pair's own potential.

    Examples
    --------
    >>> u = Universe(3, G=1.0, softening=0.1, dt=0.01, random_state=0).initialize(
    ...     positions=[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], masses=[1.0, 1.0, -0.5])
    >>> s0 = u.state(energy=True)
    >>> *_, s1 = u.run(200, record_every=50)
    >>> s1.step, bool(np.allclose(s1.momentum, s0.momentum, atol=1e-13))
    (200, True)
    """

    def __init__(
        self,
        n_stars: int = 100,
        *,
        mass_mean: float = 1.25,
        mass_sd: float = 0.75,
        negative_share: float | None = None,
        law: float = 3.0,
        G: float = 1.0,
        softening: float = 0.05,
        dt: float = 0.01,
        merge_distance: float = 0.0,
        min_merged_fraction: float = 0.1,
        radius: float = 1.0,
        velocity_sd: float = 0.0,
        spin: float = 0.0,
        dim: int = 2,
        device: str = "auto",
        dtype: str = "float64",
        track_energy: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.n_stars = n_stars
        self.mass_mean = mass_mean
        self.mass_sd = mass_sd
        self.negative_share = negative_share
        self.law = law
        self.G = G
        self.softening = softening
        self.dt = dt
        self.merge_distance = merge_distance
        self.min_merged_fraction = min_merged_fraction
        self.radius = radius
        self.velocity_sd = velocity_sd
        self.spin = spin
        self.dim = dim
        self.device = device
        self.dtype = dtype
        self.track_energy = track_energy
        self.random_state = random_state

    # ------------------------------------------------------------------ set-up
    def _validate(self) -> None:
        def finite(name: str) -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
            return float(value)

        if isinstance(self.n_stars, bool) or not isinstance(self.n_stars, int | np.integer):
            raise ValueError(f"n_stars must be an int >= 1, got {self.n_stars!r}")
        if self.n_stars < 1:
            raise ValueError(f"n_stars must be an int >= 1, got {self.n_stars}")
        for name in ("mass_mean", "law", "G", "spin"):
            finite(name)
        for name in ("mass_sd", "softening", "merge_distance", "velocity_sd"):
            if finite(name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("dt", "radius"):
            if finite(name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < finite("min_merged_fraction") <= 1:
            raise ValueError(
                f"min_merged_fraction must be in (0, 1], got {self.min_merged_fraction}"
            )
        share = self.negative_share
        if share is not None and not (isinstance(share, int | float) and 0 <= share <= 1):
            raise ValueError(f"negative_share must be None or in [0, 1], got {share!r}")
        if self.dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3, got {self.dim!r}")
        if not isinstance(self.track_energy, bool):
            raise ValueError(f"track_energy must be True or False, got {self.track_energy!r}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")

    def initialize(self, positions=None, velocities=None, masses=None) -> Universe:
        """Set the initial stars: drawn from the parameters, or given (any subset of the three).

        Given arrays fix the number of stars: ``positions`` and ``velocities`` (N, dim),
        ``masses`` (N,). Returns ``self``.
        """
        self._validate()
        self.device_ = resolve_device(self.device, float64=self.dtype == "float64")
        self.dtype_ = getattr(torch, self.dtype)
        given = [x for x in (positions, velocities, masses) if x is not None]
        n = len(given[0]) if given else int(self.n_stars)
        rng = np.random.default_rng(self.random_state)
        if masses is None:
            masses = draw_masses(n, rng, self.mass_mean, self.mass_sd, self.negative_share)
        if positions is None:
            direction = rng.standard_normal((n, self.dim))  # (N, dim), isotropic
            direction /= np.linalg.norm(direction, axis=1, keepdims=True)
            # u^(1/dim) makes the density uniform over the disc / ball
            positions = self.radius * rng.uniform(size=(n, 1)) ** (1 / self.dim) * direction
        positions = np.asarray(positions, dtype=float)
        if velocities is None:
            velocities = self.velocity_sd * rng.standard_normal((n, self.dim))  # (N, dim)
            velocities[:, 0] -= self.spin * positions[:, 1]  # omega x r, rotation about z
            velocities[:, 1] += self.spin * positions[:, 0]
        velocities, masses = np.asarray(velocities, dtype=float), np.asarray(masses, dtype=float)
        for name, array, shape in (
            ("positions", positions, (n, self.dim)),
            ("velocities", velocities, (n, self.dim)),
            ("masses", masses, (n,)),
        ):
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{name} must be finite, got non-finite values")

        def tensor(x: np.ndarray) -> torch.Tensor:
            # torch.tensor copies: the state is stepped in place, the caller's arrays must not be
            return torch.tensor(x, dtype=self.dtype_, device=self.device_)

        self._r, self._v, self._m = tensor(positions), tensor(velocities), tensor(masses)
        self._ids = torch.arange(n, device=self.device_)  # (N,) original star ids
        self.step_ = 0
        self.merge_energy_ = 0.0
        self._edges: list[np.ndarray] = []
        self._unreported = 0  # edges not yet handed out in a snapshot
        self._buffers: tuple[torch.Tensor, ...] | None = None
        D, d2 = self._pairwise()
        self._a = self._accelerations(D, d2)  # (N, dim)
        return self

    # ------------------------------------------------------------------ physics
    def _pairwise(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Separations ``D[k, i, j] = r_jk - r_ik`` (dim, N, N) and squared distances (N, N).

        NOTE: the (N, N) buffers are kept between steps and written in place: allocating
        fresh 8-16 MB tensors every step costs more than the arithmetic (page faults).
        """
        n = self._r.shape[0]
        if self._buffers is None or self._buffers[0].shape[1] != n:
            like = dict(dtype=self.dtype_, device=self.device_)
            self._buffers = (
                torch.empty((self.dim, n, n), **like),  # D
                torch.empty((n, n), **like),  # d2
                torch.empty((n, n), **like),  # w
                torch.empty((n, n), **like),  # scratch
            )
        D, d2 = self._buffers[:2]
        rt = self._r.T  # (dim, N)
        torch.sub(rt.unsqueeze(1), rt.unsqueeze(2), out=D)  # exactly antisymmetric in (i, j)
        torch.mul(D[0], D[0], out=d2)
        for k in range(1, self.dim):
            d2.addcmul_(D[k], D[k])  # (N, N), exactly symmetric
        return D, d2

    def _accelerations(self, D: torch.Tensor, d2: torch.Tensor) -> torch.Tensor:
        w, scratch = self._buffers[2:]
        torch.add(d2, self.softening**2, out=w)  # s = d^2 + eps^2
        if self.law == 3.0:
            w.rsqrt_()  # s^(-3/2) as (s^(-1/2))^3: much faster than a general power
            torch.mul(w, w, out=scratch)
            w.mul_(scratch)
        else:
            w.pow_(-0.5 * self.law)
        w.diagonal().fill_(0.0)  # r_i - r_i = 0; this also drops an infinite s_ii^(-p/2)
        w.mul_(self._m.unsqueeze(0) * self.G)  # (N, N): G m_j / s_ij^(p/2)
        return torch.einsum("ij,kij->ik", w, D)  # (N, dim): sum_j w_ij (r_j - r_i)

    def _merges_pending(self, d2: torch.Tensor) -> bool:
        if self.merge_distance == 0 or d2.shape[0] < 2:
            return False
        diagonal = d2.diagonal()
        diagonal.fill_(math.inf)  # a star is not its own neighbour
        pending = float(d2.amin()) < self.merge_distance**2
        diagonal.fill_(0.0)
        return pending

    def _merge(self, d2: torch.Tensor) -> bool:
        """Merge the mutual-closest pairs closer than ``merge_distance``; True if any merged."""
        n = d2.shape[0]
        pairs = torch.triu(d2 < self.merge_distance**2, diagonal=1).nonzero()  # (K, 2), i < j
        i, j = pairs[:, 0], pairs[:, 1]
        m = self._m
        total = m[i] + m[j]  # (K,)
        scale = m[i].abs() + m[j].abs()
        ok = (total != 0) & (total.abs() >= self.min_merged_fraction * scale)
        i, j = i[ok], j[ok]
        if len(i) == 0:
            return False
        # Rank pairs by (distance, i, j): stable sorts from the last key to the first.
        order = torch.argsort(j, stable=True)
        order = order[torch.argsort(i[order], stable=True)]
        order = order[torch.argsort(d2[i, j][order], stable=True)]
        rank = torch.empty_like(order)
        rank[order] = torch.arange(len(order), device=order.device)
        best = torch.full((n,), len(order), dtype=rank.dtype, device=rank.device)  # (N,)
        best.scatter_reduce_(0, i, rank, reduce="amin")
        best.scatter_reduce_(0, j, rank, reduce="amin")
        mutual = (best[i] == rank) & (best[j] == rank)  # the first-ranked pair of both stars
        i, j = i[mutual], j[mutual]
        # The larger |mass| absorbs; i < j, so a tie goes to the lower index.
        j_wins = m[j].abs() > m[i].abs()
        a, b = torch.where(j_wins, j, i), torch.where(j_wins, i, j)  # absorber, absorbed
        ma, mb = m[a], m[b]
        mass = ma + mb  # (k,)
        momentum = ma.unsqueeze(1) * self._v[a] + mb.unsqueeze(1) * self._v[b]  # (k, dim)
        wa, wb = ma.abs().unsqueeze(1), mb.abs().unsqueeze(1)
        self._r[a] = (wa * self._r[a] + wb * self._r[b]) / (wa + wb)
        self._v[a] = momentum / mass.unsqueeze(1)
        self._m[a] = mass
        step = torch.full_like(a, self.step_)
        self._edges.append(torch.stack([self._ids[a], self._ids[b], step], 1).cpu().numpy())
        keep = torch.ones(n, dtype=torch.bool, device=d2.device)
        keep[b] = False
        self._r, self._v, self._m = self._r[keep], self._v[keep], self._m[keep]
        self._ids = self._ids[keep]
        return True

    def _check_initialized(self) -> None:
        if not hasattr(self, "_r"):
            self.initialize()

    def step(self) -> Universe:
        """Advance one leapfrog step (kick, drift, new accelerations, kick), then merge."""
        self._check_initialized()
        half = 0.5 * self.dt
        self._v.add_(self._a, alpha=half)
        self._r.add_(self._v, alpha=self.dt)
        self.step_ += 1
        D, d2 = self._pairwise()
        self._a = self._accelerations(D, d2)
        self._v.add_(self._a, alpha=half)
        # Mergers come last, where velocities are synchronised with positions, so the energy
        # a merger changes is measured on the same footing as the energy the run conserves.
        if self._merges_pending(d2):
            before = sum(self.energy()) if self.track_energy else 0.0
            if self._merge(d2):
                self._a = self._accelerations(*self._pairwise())
                if self.track_energy:
                    self.merge_energy_ += sum(self.energy()) - before
        return self

    def run(
        self, steps: int, record_every: int = 1, energy: bool = False
    ) -> Iterator[UniverseState]:
        """Take ``steps`` steps, yielding the current state first, then every ``record_every``
        steps and after the last one.

        Each snapshot's ``merges`` holds the mergers since the previous snapshot.
        """
        for name, value, low in (("steps", steps, 0), ("record_every", record_every, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        self._check_initialized()
        yield self.state(energy)
        for k in range(1, steps + 1):
            self.step()
            if k % record_every == 0 or k == steps:
                yield self.state(energy)

    # ------------------------------------------------------------------ read-outs
    def accelerations(self) -> np.ndarray:
        """The accelerations (N, dim) of the live stars at their current positions."""
        self._check_initialized()
        return self._a.cpu().numpy().copy()

    def energy(self) -> tuple[float, float]:
        """Kinetic and potential energy of the live stars (see the module docstring)."""
        self._check_initialized()
        m = self._m
        kinetic = 0.5 * float((m * (self._v * self._v).sum(1)).sum())
        _, d2 = self._pairwise()
        phi = pair_potential(d2 + self.softening**2, self.law, self.G)  # (N, N), a new tensor
        phi.fill_diagonal_(0.0)  # no self-energy (this also drops an infinite phi(0))
        potential = 0.5 * float((m.unsqueeze(0) * m.unsqueeze(1) * phi).sum())
        return kinetic, potential

    def state(self, energy: bool = False) -> UniverseState:
        """The current stars as a :class:`UniverseState` (``energy=True`` adds an O(N^2) pass)."""
        self._check_initialized()
        kinetic, potential = self.energy() if energy else (None, None)
        merges = np.concatenate(self._edges[self._unreported :] or [np.zeros((0, 3), np.int64)])
        self._unreported = len(self._edges)
        return UniverseState(
            step=self.step_,
            time=self.step_ * self.dt,
            ids=self._ids.cpu().numpy(),
            positions=self._r.cpu().numpy().copy(),
            velocities=self._v.cpu().numpy().copy(),
            masses=self._m.cpu().numpy().copy(),
            merges=merges,
            momentum=(self._m.unsqueeze(1) * self._v).sum(0).cpu().numpy(),
            kinetic=kinetic,
            potential=potential,
            merge_energy=self.merge_energy_,
        )

    @property
    def collision_edges_(self) -> np.ndarray:
        """The collision graph so far, rows ``(absorber id, absorbed id, step)``."""
        self._check_initialized()
        return np.concatenate(self._edges or [np.zeros((0, 3), np.int64)])

    @property
    def n_alive_(self) -> int:
        """Stars still alive."""
        self._check_initialized()
        return int(self._m.shape[0])
