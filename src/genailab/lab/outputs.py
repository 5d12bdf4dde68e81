"""Where a run's files go: ``OUT/<name>/``, written beside it and swapped in whole.

A run never writes into ``OUT/NAME/`` itself. It writes into a hidden folder beside it,
``OUT/.NAME.partial-PID-TOKEN/`` (``PID`` its process, ``TOKEN`` random), and only once every
file there is complete does that folder take the place of ``OUT/NAME/``. A run that fails, is
interrupted or is killed therefore leaves the previous run exactly as it was, and nothing that
looks finished: the gallery reads ``OUT/*/summary.json`` and skips hidden folders.

The swap. On Linux, ``renameat2(RENAME_EXCHANGE)`` exchanges the two folders in one atomic
step, so at every instant ``OUT/NAME/`` is a complete run; the previous run, now under the
partial name, is then removed. Where there is no exchange (another system, or a file system
without it), ``OUT/NAME/`` is renamed to ``OUT/.NAME.old-PID-TOKEN/``, the new folder is renamed
to ``OUT/NAME/`` and the old one removed: for the instant between the two renames there is no
``OUT/NAME/``, and a process killed in that instant leaves an old folder and no run, which the
next run of that name, or the gallery, renames back (:func:`recover_runs`).

Leftovers of processes that are no longer running (``.partial-`` and ``.old-`` folders whose
``PID`` is dead) are removed by the next run of that name; those of a live process are its work
in progress and are left alone. Two runs of one name at once each write their own partial
folder, each swap puts a complete run in place, and the last to finish wins.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from genailab.errors import OutputError

DEFAULT_OUT = "genailab-out"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)-[0-9a-f]+$")
_SWAP_ATTEMPTS = 100  # other runs of the same name may move OUT/NAME between two of our steps


def prepare_output(folder: Path) -> Path:
    """Create ``folder`` and prove it is writable, or raise :class:`OutputError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}-{secrets.token_hex(4)}"  # one per run
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise OutputError(f"cannot write to output folder '{folder}': {reason}") from None
    return folder


def is_run_folder_name(name: str) -> bool:
    """Whether a folder of ``OUT`` can be a finished run (hidden ones are partial or old).

    Examples
    --------
    >>> is_run_folder_name("gradient-descent"), is_run_folder_name(".gradient-descent.old-7-ab")
    (True, False)
    """
    return not name.startswith(".")


# ----------------------------------------------------------------------------- staging
@contextmanager
def staged_run_folder(out: str | os.PathLike, name: str) -> Iterator[Path]:
    """Yield a new hidden folder to write a run in; on success it becomes ``out/name``.

    On any exception (an interrupt included) the folder is removed and ``out/name`` is left as
    it was. Leftovers of dead processes for ``name`` are dealt with first (see the module).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> with staged_run_folder(out, "demo") as folder:
    ...     _ = (folder / "summary.json").write_text("{}")
    ...     sorted(p.name for p in out.iterdir()) == [folder.name]
    True
    >>> sorted(p.name for p in out.iterdir()), (out / "demo" / "summary.json").read_text()
    (['demo'], '{}')
    """
    out = prepare_output(Path(out))
    dest = out / name
    recover_runs(out, name)
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"'{dest}' exists and is not a folder: move it, or choose another --out")
    remove_leftovers(out, name)
    partial = _new_sibling(dest, "partial")
    try:
        partial.mkdir()
    except OSError as err:
        raise OutputError(f"cannot create '{partial}': {err.strerror}") from None
    try:
        yield partial
    except BaseException:
        _remove(partial)
        raise
    publish(partial, dest)


def publish(partial: Path, dest: Path) -> None:
    """Put the complete folder ``partial`` in the place of ``dest`` and remove what was there."""
    failed = f"cannot move the run into '{dest}'"
    for _ in range(_SWAP_ATTEMPTS):
        if not os.path.lexists(dest):
            try:
                os.rename(partial, dest)
                return
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise OutputError(f"{failed}: {err.strerror}") from None
                continue  # another run of this name got there first: swap with it
        try:
            if exchange(partial, dest):
                _remove(partial)  # the previous run, now under the partial name
                return
        except FileNotFoundError:
            continue  # another run moved dest away since we looked; look again
        # No atomic exchange here: rename the previous run aside, ours in, remove the old one.
        old = _new_sibling(dest, "old")
        try:
            os.rename(dest, old)
        except FileNotFoundError:
            continue
        try:
            os.rename(partial, dest)
        except OSError as err:
            if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
                _remove(old)  # another run put a newer one in meanwhile; ours replaces it next
                continue
            os.rename(old, dest)  # put the previous run back before giving up
            raise OutputError(f"{failed}: {err.strerror}") from None
        _remove(old)
        return
    raise OutputError(f"{failed}: other runs kept replacing it")


# --------------------------------------------------------------------- the atomic swap
_AT_FDCWD = -100  # Linux: paths relative to the current folder
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV}


@functools.cache
def _renameat2():
    """The C library's ``renameat2``, or None where there is none (another system, old libc)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


def exchange(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Exchange the paths ``a`` and ``b`` in one atomic step; False where that is impossible.

    Linux's ``renameat2(..., RENAME_EXCHANGE)`` (kernel 3.15, glibc 2.28) through ctypes; a
    file system without the flag (some network ones) or another system returns False.
    ``FileNotFoundError`` if either path does not exist.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a").write_text("A"); _ = (folder / "b").write_text("B")
    >>> done = exchange(folder / "a", folder / "b")  # True on Linux
    >>> (folder / "a").read_text() if done else "B"
    'B'
    """
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), os.fspath(a), None, os.fspath(b))


# -------------------------------------------------------------------------- leftovers
def _new_sibling(dest: Path, kind: str) -> Path:
    return dest.with_name(f".{dest.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (a process we may not signal exists too)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate it; keep every leftover there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> None:
    """Remove a folder (or a file or link in its place); what cannot be removed stays hidden."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def leftovers(out: str | os.PathLike, name: str | None = None) -> list[tuple[Path, str, str, int]]:
    """The partial and old folders in ``out`` (of run ``name``, or of every run), each as
    ``(path, run name, "partial" or "old", pid)``, sorted by path."""
    found = []
    try:
        entries = sorted(Path(out).iterdir())
    except OSError:
        return []
    for path in entries:
        match = _LEFTOVER.match(path.name)
        if match and (name is None or match["name"] == name):
            found.append((path, match["name"], match["kind"], int(match["pid"])))
    return found


def recover_runs(out: str | os.PathLike, name: str | None = None) -> list[str]:
    """Rename back the previous run of each name whose swap was cut short: an ``.NAME.old-``
    folder of a dead process where ``NAME`` is missing. Returns the names restored."""
    restored = []
    olds = [(path, run, pid) for path, run, kind, pid in leftovers(out, name) if kind == "old"]
    olds.sort(key=lambda item: _mtime(item[0]), reverse=True)  # the newest first
    for path, run, pid in olds:
        dest = Path(out) / run
        if _running(pid) or os.path.lexists(dest):
            continue
        try:
            os.rename(path, dest)
            restored.append(run)
        except OSError:  # another process restored it, or put a newer run there, first
            pass
    return restored


def remove_leftovers(out: str | os.PathLike, name: str) -> None:
    """Remove the partial and old folders of ``name`` left by processes no longer running."""
    for path, _, _, pid in leftovers(out, name):
        if not _running(pid):
            _remove(path)
