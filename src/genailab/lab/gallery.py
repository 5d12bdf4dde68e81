"""The gallery: one static ``index.html`` that shows every run found in an output folder.

No server, no CDN, no external file: the page works when opened from ``file://``. Each card
has the title, the chapter, the explanation (the experiment module's docstring), the video
(muted, looping, with its poster), the final figures and the command that reproduces it. A
few lines of inline script print each video's length once its metadata has loaded, or say
plainly that it failed to load.
"""

from __future__ import annotations

import html
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from genailab.atomic_write import write_text_atomically
from genailab.errors import GenailabError
from genailab.lab.outputs import is_run_folder_name, recover_runs
from genailab.lab.registry import CHAPTERS

_REQUIRED = ("name", "title", "chapter", "explanation", "command", "files", "final")
_FILES = ("video", "poster", "metrics")

_CSS = """
:root { --ink: #222; --muted: #666; --line: #e3e3e3; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--ink); background: #fafafa; }
header { padding: 28px 32px 8px; }
header h1 { margin: 0; font-size: 26px; }
header p { margin: 4px 0 0; color: var(--muted); }
h2 { margin: 28px 32px 8px; font-size: 19px; color: var(--accent); }
.cards { display: grid; gap: 20px; padding: 0 32px 32px;
         grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.card video { display: block; width: 100%; height: auto; background: #000; }
.card .body { padding: 14px 18px 18px; }
.card h3 { margin: 0 0 2px; font-size: 18px; }
.meta { color: var(--muted); font-size: 13px; }
.figures { border-collapse: collapse; margin: 10px 0; font-size: 13px; }
.figures td { padding: 2px 14px 2px 0; border-bottom: 1px solid var(--line); }
.figures td.value { font-variant-numeric: tabular-nums; text-align: right; }
code.inline { display: inline; padding: 1px 4px; font-size: 13px; }
code { display: block; background: #f3f3f3; padding: 8px 10px; border-radius: 6px;
       font-size: 13px; overflow-x: auto; white-space: pre; }
a { color: var(--accent); }
"""

# Shows each video's length once loaded, or an error; data-* attributes record the same.
_SCRIPT = """
for (const video of document.querySelectorAll("video")) {
  const status = video.closest(".card").querySelector(".status");
  const loaded = () => {
    video.dataset.duration = video.duration;
    status.textContent = `${video.duration.toFixed(1)} s, ${video.videoWidth}x${video.videoHeight}`;
  };
  const failed = () => {
    video.dataset.error = video.error ? video.error.code : "unknown";
    status.textContent = "this video failed to load in this browser";
  };
  if (video.readyState >= 1) loaded(); else video.addEventListener("loadedmetadata", loaded);
  video.addEventListener("error", failed);
}
"""


def find_runs(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Read ``*/summary.json`` under ``folder``, in gallery order (chapter, rung, name).

    Hidden folders (a run being written, or the previous one being swapped out) are skipped;
    a previous run whose swap was cut short by a kill is first put back in its place (see
    :func:`genailab.lab.outputs.recover_runs`). A summary that is not valid JSON or lacks a
    field raises :class:`GenailabError`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise GenailabError(f"gallery folder '{folder}' does not exist or is not a folder")
    recover_runs(folder)
    runs = []
    for path in sorted(folder.glob("*/summary.json")):
        if not is_run_folder_name(path.parent.name):
            continue
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise GenailabError(f"cannot read run summary '{path}': {err}") from None
        _check_summary(summary, path)
        summary["folder"] = path.parent.name
        runs.append(summary)
    order = {chapter: i for i, chapter in enumerate(CHAPTERS)}
    runs.sort(key=lambda s: (order.get(s["chapter"], len(order)), s.get("order", 0), s["name"]))
    return runs


def _check_summary(summary: Any, path: Path) -> None:
    """Refuse a summary the page cannot show, naming the first field that is wrong."""
    if not isinstance(summary, dict):
        raise GenailabError(f"run summary '{path}' is not a JSON object")
    missing = [key for key in _REQUIRED if key not in summary]
    if missing:
        raise GenailabError(f"run summary '{path}' lacks {', '.join(missing)}")
    wrong = [key for key in _REQUIRED[:5] if not isinstance(summary[key], str)]
    files, final, order = summary["files"], summary["final"], summary.get("order", 0)
    if not isinstance(files, dict) or not all(isinstance(files.get(k), str) for k in _FILES):
        wrong.append("files (the names of its video, poster and metrics)")
    if not isinstance(final, dict):
        wrong.append("final (an object of figures)")
    if not isinstance(order, int) or isinstance(order, bool):
        wrong.append("order (an integer)")
    if wrong:
        raise GenailabError(f"run summary '{path}' has a wrong {', '.join(wrong)}")


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "n/a" if value is None else str(value)


def _inline_code(text: str) -> str:
    """Docstrings mark names with backticks; show them as code."""
    return re.sub(r"`+([^`]+)`+", r"<code class=inline>\1</code>", text)


def _card(run: dict[str, Any]) -> str:
    esc = html.escape
    base = esc(run["folder"])
    files = run["files"]
    paragraphs = "".join(
        f"<p>{_inline_code(esc(p))}</p>" for p in run["explanation"].split("\n\n") if p
    )
    figures = "".join(
        f"<tr><td>{esc(key)}</td><td class=value>{esc(_number(value))}</td></tr>"
        for key, value in run["final"].items()
    )
    return f"""
<article class=card id="{base}">
  <video src="{base}/{esc(files["video"])}" poster="{base}/{esc(files["poster"])}"
         muted loop autoplay playsinline controls preload=metadata></video>
  <div class=body>
    <h3>{esc(run["title"])}</h3>
    <div class=meta>{esc(run["name"])} · {esc(run["chapter"])} ·
      <span class=status>video loading…</span></div>
    {paragraphs}
    <table class=figures>{figures}</table>
    <code>{esc(run["command"])}</code>
    <p class=meta><a href="{base}/summary.json">summary</a> ·
      <a href="{base}/{esc(files["metrics"])}">metrics</a> ·
      <a href="{base}/{esc(files["video"])}">video</a></p>
  </div>
</article>"""


def build_gallery(folder: str | os.PathLike) -> Path:
    """Write ``folder/index.html`` for the runs found in ``folder`` and return its path.

    Examples
    --------
    >>> import tempfile, genailab
    >>> out = tempfile.mkdtemp()
    >>> _ = genailab.run("gradient-descent", quick=True, out=out, overrides={"steps": 3},
    ...                  size=(320, 180), progress=False)
    >>> build_gallery(out).name
    'index.html'
    """
    folder = Path(folder)
    runs = find_runs(folder)
    if not runs:
        raise GenailabError(f"no runs found in '{folder}' (a run folder holds a summary.json)")
    sections = []
    for chapter in dict.fromkeys(run["chapter"] for run in runs):
        cards = "".join(_card(run) for run in runs if run["chapter"] == chapter)
        sections.append(
            f"<h2>{html.escape(chapter)}</h2>\n<section class=cards>{cards}\n</section>"
        )
    count = f"{len(runs)} data video" + ("s" if len(runs) != 1 else "")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!doctype html>
<html lang=en>
<head>
<meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>genailab gallery</title>
<link rel=icon href="data:,">
<style>{_CSS}</style>
</head>
<body>
<header>
  <h1>genailab gallery</h1>
  <p>{count}, each rendered from the frames of one experiment. Built {stamp}.</p>
</header>
{chr(10).join(sections)}
<script>{_SCRIPT}</script>
</body>
</html>
"""
    index = folder / "index.html"
    return write_text_atomically(index, page)
