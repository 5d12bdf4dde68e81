"""The synthetic universe's cost: 1,000 stars for 2,000 leapfrog steps, against a 60 s goal.

genailab's :class:`~genailab.simulate.Universe` (torch, O(N^2) pairwise in a few in-place tensor
operations per step) is timed next to its anchor, the textbook numpy version of the same step
(fresh ``(N, N)`` separation arrays every step, as in most published N-body snippets),
measured for a few hundred steps in the same run and extrapolated to the same 2,000 steps.
Both run in float64 with softened Newton (p = 3) and mergers off, so both do the same
arithmetic; a second genailab row turns mergers on (fewer stars as they merge).
genailab runs with 1 and then 2 torch threads on the CPU (the numpy anchor is elementwise, so
single-threaded), and on cuda when present.

Run: ``python benchmarks/universe.py [--stars N] [--steps N] [--anchor-steps N]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from genailab.simulate import Universe

GOAL_S = 60.0


def universe(stars: int, device: str, merge_distance: float = 0.0) -> Universe:
    # G * total mass ~ 1 on a unit disc spinning at about the rate that balances the pull
    return Universe(
        stars,
        G=1.0 / (1.25 * stars),
        softening=0.05,
        dt=0.002,
        merge_distance=merge_distance,
        spin=1.0,
        device=device,
        random_state=0,
    ).initialize()


def time_genailab(stars: int, steps: int, device: str, merge_distance: float = 0.0):
    u = universe(stars, device, merge_distance)
    for _ in range(5):  # warm-up (allocations, cuda kernels)
        u.step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        u.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, u.n_alive_


def time_numpy_anchor(stars: int, steps: int) -> float:
    """Kick-drift-kick in plain numpy, allocating its pairwise arrays every step."""
    s = universe(stars, "cpu").state()
    r, v, m = s.positions.copy(), s.velocities.copy(), s.masses.copy()
    G, eps2, dt = 1.0 / (1.25 * stars), 0.05**2, 0.002

    def accelerations(r):
        dx = r[None, :, 0] - r[:, None, 0]  # (N, N)
        dy = r[None, :, 1] - r[:, None, 1]
        w = G * m[None, :] * (dx**2 + dy**2 + eps2) ** -1.5  # (N, N)
        return np.stack([(w * dx).sum(1), (w * dy).sum(1)], 1)  # (N, 2)

    a = accelerations(r)
    start = time.perf_counter()
    for _ in range(steps):
        v += 0.5 * dt * a
        r += dt * v
        a = accelerations(r)
        v += 0.5 * dt * a
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stars", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--anchor-steps", type=int, default=200)
    args = parser.parse_args()
    n, steps = args.stars, args.steps
    print(f"{n} stars x {steps} steps, float64, softened Newton; goal <= {GOAL_S:.0f} s")
    print(f"{'run':44s} {'seconds':>9s} {'vs goal':>8s} {'vs numpy':>9s} {'alive':>6s}")
    anchor = time_numpy_anchor(n, args.anchor_steps) * steps / args.anchor_steps
    rows = [(f"numpy anchor ({args.anchor_steps} steps, extrapolated)", anchor, anchor, n)]
    for threads in (1, 2):
        torch.set_num_threads(threads)
        seconds, alive = time_genailab(n, steps, "cpu")
        rows.append((f"genailab cpu, {threads} thread(s)", seconds, anchor, alive))
        seconds, alive = time_genailab(n, steps, "cpu", merge_distance=0.02)
        rows.append((f"genailab cpu, {threads} thread(s), mergers on", seconds, anchor, alive))
    if torch.cuda.is_available():
        seconds, alive = time_genailab(n, steps, "cuda")
        rows.append(("genailab cuda", seconds, anchor, alive))
    for name, seconds, reference, alive in rows:
        ratios = f"{seconds / GOAL_S:7.2f}x {seconds / reference:8.2f}x"
        print(f"{name:44s} {seconds:9.1f} {ratios} {alive:6d}")


if __name__ == "__main__":
    main()
