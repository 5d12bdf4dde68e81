"""Still images: save a ``(H, W, 3)`` uint8 array as a PNG (the poster of a video)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from genailab.atomic_write import atomic_path


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write ``rgb`` to ``path`` as PNG, atomically (temporary file, then rename).

    Examples
    --------
    >>> import tempfile
    >>> red = np.full((4, 6, 3), [255, 0, 0], np.uint8)
    >>> out = save_png(Path(tempfile.mkdtemp()) / "red.png", red)
    >>> out.suffix
    '.png'
    """
    from PIL import Image

    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(tmp, format="PNG")
    return path
