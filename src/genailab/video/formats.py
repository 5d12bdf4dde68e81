"""The video formats genailab writes, and the sizes and frame rates it accepts, known without
importing an encoder (so that the command line can check them before any work starts).

Sizes are even (H.264 and VP9 store colour at half resolution, in 2x2 blocks) and bounded: at
least 64 pixels a side, so that a title fits, and at most 3840x2160 (4K UHD), beyond which no
screen shows more and the encoder's buffers alone take gigabytes. Frame rates run from 1 to
60 frames per second, what browsers play smoothly.
"""

from __future__ import annotations

import numbers

from genailab.errors import ConfigError, UnknownNameError, suggest

FORMATS = ("mp4", "webm", "gif")
WIDTH_RANGE = (64, 3840)
HEIGHT_RANGE = (64, 2160)
FPS_RANGE = (1, 60)
SIZE_RULE = (
    f"WIDTHxHEIGHT, two even numbers, width in [{WIDTH_RANGE[0]}, {WIDTH_RANGE[1]}] "
    f"and height in [{HEIGHT_RANGE[0]}, {HEIGHT_RANGE[1]}]"
)


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


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_size(size: object) -> tuple[int, int]:
    """Return ``size`` as ``(width, height)`` if it is a size genailab renders, else raise
    :class:`ConfigError` naming the accepted sizes.

    Examples
    --------
    >>> check_size((320, 180))
    (320, 180)
    >>> check_size((321, 180))
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: size must be WIDTHxHEIGHT, two even numbers, width in [64, 3840] \
and height in [64, 2160]; got 321x180
    """
    pair = tuple(size) if isinstance(size, tuple | list) else ()
    if len(pair) == 2 and all(_is_int(v) for v in pair):
        width, height = pair
        fits = WIDTH_RANGE[0] <= width <= WIDTH_RANGE[1] and (
            HEIGHT_RANGE[0] <= height <= HEIGHT_RANGE[1]
        )
        if fits and width % 2 == 0 and height % 2 == 0:
            return int(width), int(height)
        shown = f"{width}x{height}"
    else:
        shown = repr(size)
    raise ConfigError(f"size must be {SIZE_RULE}; got {shown}")


def parse_size(text: str) -> tuple[int, int]:
    """Read ``"WIDTHxHEIGHT"`` (as ``--size`` takes it) and check it with :func:`check_size`.

    Examples
    --------
    >>> parse_size("1280x720")
    (1280, 720)
    >>> parse_size("big")
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: size must be WIDTHxHEIGHT, two even numbers, width in [64, 3840] \
and height in [64, 2160]; got 'big'
    """
    width, sep, height = text.strip().lower().partition("x")
    if sep and width.strip().isdigit() and height.strip().isdigit():
        # isdigit: no sign, no space inside, no "1_000" that int() would take
        size: object = (int(width), int(height))
        try:
            return check_size(size)
        except ConfigError:
            pass
    raise ConfigError(f"size must be {SIZE_RULE}; got {text!r}")


def check_fps(fps: object) -> int:
    """Return ``fps`` if it is a frame rate genailab encodes (an integer in ``FPS_RANGE``).

    Examples
    --------
    >>> check_fps(24)
    24
    >>> check_fps(0)
    Traceback (most recent call last):
    ...
    genailab.errors.ConfigError: fps must be an integer in [1, 60], got 0
    """
    if not (_is_int(fps) and FPS_RANGE[0] <= fps <= FPS_RANGE[1]):
        raise ConfigError(
            f"fps must be an integer in [{FPS_RANGE[0]}, {FPS_RANGE[1]}], got {fps!r}"
        )
    return int(fps)
