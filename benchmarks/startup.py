"""How long a command takes before it does anything, against the bare interpreter's start.

Each command runs in a fresh ``python3`` process (``-m genailab ...``), as a user types it; the
anchor is the same interpreter doing nothing (``python3 -c pass``) and importing numpy alone, in
the same run on the same machine. Goals (issue 11): ``genailab --help`` and ``genailab list``
under 0.5 s of wall time; ``import genailab.engine`` costs numpy and nothing more.

Run: ``python benchmarks/startup.py [--repeat N]``; prints the median wall time of each.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (anchor)": ["-c", "pass"],
    "python -c 'import numpy' (anchor)": ["-c", "import numpy"],
    "genailab --help": ["-m", "genailab", "--help"],
    "genailab list": ["-m", "genailab", "list"],
    "genailab run gradient-descent --help": ["-m", "genailab", "run", "gradient-descent", "--help"],
    "import genailab.engine": ["-c", "import genailab.engine"],
    "import genailab.lm (lazy)": ["-c", "import genailab.lm"],
    "from genailab.lm import train (torch)": ["-c", "from genailab.lm import train"],
}


def wall_time(args: list[str], repeat: int) -> float:
    """Median wall time of ``python3 ARGS`` over ``repeat`` runs (after one warm-up run)."""
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True)
        if i:  # the first run fills the page cache and writes .pyc files
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (default 7)")
    args = parser.parse_args()
    results = {name: wall_time(argv, args.repeat) for name, argv in COMMANDS.items()}
    anchor = results["python -c pass (anchor)"]
    print("| command | median wall time | vs bare python |")
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(f"| `{name}` | {seconds:.3f} s | {seconds / anchor:.1f}x |")
    for name in ("genailab --help", "genailab list"):
        verdict = "met" if results[name] < 0.5 else "NOT met"
        print(f"goal: {name} < 0.5 s: {verdict} ({results[name]:.3f} s)")


if __name__ == "__main__":
    main()
