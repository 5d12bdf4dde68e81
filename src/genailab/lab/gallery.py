"""The gallery: one static ``index.html`` that shows every run found in an output folder.

No server, no CDN, no external file: the page works when opened from ``file://``. The runs
are grouped by chapter, in the order of the mission, each chapter under its introduction.
Each card has the title, the preset and wall time, the video (its poster as the still until
it plays, its captions as a ``<track>``), the explanation, the headline claims met or not with
their numbers, the captions as a transcript that seeks the video, the final figures, the
command that reproduces the run and links to its files.

The caption track is embedded in the page as a ``data:`` URL: browsers refuse to load a
``<track>`` file from ``file://`` (each file there is its own origin), but not a data URL. A
few lines of inline script print each video's length once its metadata has loaded, or say
plainly that it failed to load.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from genailab.atomic_write import write_text_atomically
from genailab.errors import GenailabError
from genailab.lab.chapters import CHAPTERS, INTRODUCTIONS, slug
from genailab.lab.claims import format_figure
from genailab.lab.outputs import is_run_folder_name, recover_runs

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
.intro { margin: 0 32px 12px; max-width: 900px; color: var(--muted); }
nav { padding: 0 32px; font-size: 14px; }
nav a { margin-right: 14px; }
.claims { list-style: none; padding: 0; margin: 10px 0; font-size: 14px; }
.claims li { margin: 3px 0; }
.claims .met::before { content: "\\2713  "; color: #009E73; font-weight: bold; }
.claims .missed::before { content: "\\2717  "; color: #D55E00; font-weight: bold; }
.claims .numbers { color: var(--muted); font-variant-numeric: tabular-nums; }
.answer { font-weight: 600; }
details { margin: 8px 0; font-size: 13px; }
details ol { margin: 4px 0; padding-left: 22px; }
details li a { text-decoration: none; }
.time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
"""

# Shows each video's length once loaded, or an error; data-* attributes record the same. The
# caption track is loaded hidden (the video's title band already shows each caption), so that
# its cues are there for the transcript, whose links seek the video.
_SCRIPT = """
for (const video of document.querySelectorAll("video")) {
  for (const track of video.textTracks) if (track.mode === "disabled") track.mode = "hidden";
  for (const link of video.closest(".card").querySelectorAll("a[data-seek]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      video.currentTime = Number(link.dataset.seek);
      video.play();
    });
  }
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


def _inline_code(text: str) -> str:
    """Docstrings mark names with backticks; show them as code."""
    return re.sub(r"`+([^`]+)`+", r"<code class=inline>\1</code>", text)


def _read_cues(folder: Path, name: str | None) -> tuple[str, list[tuple[float, str]]]:
    """The caption file of a run as a data URL, and its cues as (start in s, text)."""
    if not name or not (folder / name).is_file():
        return "", []
    text = (folder / name).read_text(encoding="utf-8")
    cues = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue
        h, m, rest = lines[timing].split("-->")[0].strip().split(":")
        start = int(h) * 3600 + int(m) * 60 + float(rest)
        cues.append((start, html.unescape(" ".join(lines[timing + 1 :]))))
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"data:text/vtt;base64,{data}", cues


def _claims(run: dict[str, Any]) -> str:
    esc = html.escape
    items = "".join(
        f"<li class={'met' if c.get('met') else 'missed'}>{esc(str(c.get('text', '')))} "
        f"<span class=numbers>({esc(str(c.get('shown', '')))})</span></li>"
        for c in run.get("claims", [])
        if isinstance(c, dict)
    )
    return f"<ul class=claims>{items}</ul>" if items else ""


def _meta(run: dict[str, Any]) -> str:
    parts = [html.escape(run["name"])]
    if "preset" in run:
        parts.append(f"{html.escape(str(run['preset']))} preset")
    if isinstance(run.get("wall_s"), int | float):
        parts.append(f"rendered in {run['wall_s']:.0f} s")
    return " · ".join(parts)


def _card(run: dict[str, Any], folder: Path) -> str:
    esc = html.escape
    base = esc(run["folder"])
    files = run["files"]
    track_url, cues = _read_cues(folder / run["folder"], files.get("captions"))
    track = (
        f'\n    <track kind=captions srclang=en label="Captions" src="{track_url}">'
        if track_url
        else ""
    )
    paragraphs = "".join(
        f"<p>{_inline_code(esc(p))}</p>" for p in run["explanation"].split("\n\n") if p
    )
    answer = f"<p class=answer>{esc(run['answer'])}</p>" if run.get("answer") else ""
    transcript = "".join(
        f'<li><a href="#{base}" data-seek="{start:.3f}"><span class=time>'
        f"{int(start // 60)}:{start % 60:04.1f}</span>{esc(text)}</a></li>"
        for start, text in cues
    )
    transcript = (
        f"<details><summary>captions ({len(cues)})</summary><ol>{transcript}</ol></details>"
        if cues
        else ""
    )
    figures = "".join(
        f"<tr><td>{esc(key)}</td><td class=value>{esc(format_figure(value))}</td></tr>"
        for key, value in run["final"].items()
    )
    links = [
        ("summary", "summary.json"),
        ("metrics", files["metrics"]),
        ("video", files["video"]),
        ("poster", files["poster"]),
    ]
    if files.get("captions"):
        links.append(("captions", files["captions"]))
    link_html = " · ".join(f'<a href="{base}/{esc(target)}">{label}</a>' for label, target in links)
    return f"""
<article class=card id="{base}">
  <video src="{base}/{esc(files["video"])}" poster="{base}/{esc(files["poster"])}"
         muted playsinline controls preload=metadata>{track}
  </video>
  <div class=body>
    <h3>{esc(run["title"])}</h3>
    <div class=meta>{_meta(run)} · <span class=status>video loading…</span></div>
    {paragraphs}
    {answer}
    {_claims(run)}
    {transcript}
    <details><summary>final figures</summary><table class=figures>{figures}</table></details>
    <code>{esc(run["command"])}</code>
    <p class=meta>{link_html}</p>
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
    sections, contents = [], []
    for chapter in dict.fromkeys(run["chapter"] for run in runs):
        cards = "".join(_card(run, folder) for run in runs if run["chapter"] == chapter)
        anchor, intro = slug(chapter), INTRODUCTIONS.get(chapter, "")
        contents.append(f'<a href="#{anchor}">{html.escape(chapter)}</a>')
        sections.append(
            f'<h2 id="{anchor}">{html.escape(chapter)}</h2>\n'
            f"<p class=intro>{html.escape(intro)}</p>\n"
            f"<section class=cards>{cards}\n</section>"
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
  <p>{count}, each rendered from the frames of one experiment: it opens with the question,
  titles each stretch of frames with what they show, and closes with what the run measured.
  The claims under each video are checked on that run's own figures. Built {stamp}.</p>
</header>
<nav>{" ".join(contents)}</nav>
{chr(10).join(sections)}
<script>{_SCRIPT}</script>
</body>
</html>
"""
    index = folder / "index.html"
    return write_text_atomically(index, page)
