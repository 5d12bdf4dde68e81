"""Atomic writes: a file is either the old one or the complete new one, never half of either.

Every file genailab writes (a checkpoint, a video, a poster, a summary, the gallery page, a
synthetic table) is written to a temporary file in the same folder and then renamed onto its
name with ``os.replace``, which is atomic on POSIX and Windows when both names are on one file
system, hence "the same folder". A run killed mid-write leaves the previous file intact and at
most a hidden ``.NAME.*.tmp`` beside it; a failed write removes its temporary file.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> with atomic_path(folder / "out.txt") as tmp:
...     _ = tmp.write_text("all or nothing")
>>> (folder / "out.txt").read_text(), sorted(p.name for p in folder.iterdir())
('all or nothing', ['out.txt'])
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from genailab.errors import OutputError


def temporary_sibling(path: str | os.PathLike) -> Path:
    """Create an empty, uniquely named ``.NAME.*.tmp`` beside ``path`` and return its path.

    The file gets a plain file's permissions (``0o666`` less the umask), not ``mkstemp``'s
    ``0o600``, since it will become ``path``. Two writers of the same ``path`` get different
    temporary files, so the last rename wins with a complete file.

    Raises
    ------
    OutputError
        The folder of ``path`` does not exist or cannot be written.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{path}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise OutputError(f"{path}: cannot write in {folder} ({err.strerror})") from None
    os.close(fd)
    umask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on error it goes.

    Parameters
    ----------
    path : str or PathLike
        The file to write. Its folder must exist.

    Yields
    ------
    Path
        A temporary file beside ``path`` (see :func:`temporary_sibling`).
    """
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path.

    Examples
    --------
    >>> import tempfile
    >>> out = write_text_atomically(Path(tempfile.mkdtemp()) / "a.json", "{}")
    >>> out.read_text()
    '{}'
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
