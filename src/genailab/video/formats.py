"""The video formats genailab writes, known without importing an encoder."""

from __future__ import annotations

from genailab.errors import UnknownNameError, suggest

FORMATS = ("mp4", "webm", "gif")


def check_format(fmt: str) -> str:
    """Return ``fmt`` if it is a known video format, else raise :class:`UnknownNameError`.

    Examples
    --------
    >>> check_format("mp4")
    'mp4'
    """
    if fmt not in FORMATS:
        raise UnknownNameError(
            f"unknown video format '{fmt}'{suggest(fmt, FORMATS)} (accepted: {', '.join(FORMATS)})"
        )
    return fmt
