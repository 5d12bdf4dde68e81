"""What a viewer sees, measured from the encoded file: its length and how long each title stays.

A video's title is the band the runner paints across the top of every data frame (and the
top of the cards). Decoding the file and watching that band change is an independent check of
the pacing: it does not trust the runner's own account of what it wrote.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genailab.video.cards import band_height

# A title that changes alters a few thousand band pixels by ~100 grey levels (a mean over
# the band of 5 or more); H.264's noise on an unchanged band stays below 1.
CHANGE_THRESHOLD = 2.5


def decode_band(path: str | Path) -> tuple[np.ndarray, int]:
    """The title band of every decoded frame as grey levels ``(frames, rows, W)``, and fps."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = round(float(stream.average_rate))
        bands = []
        for frame in container.decode(stream):
            grey = frame.to_ndarray(format="gray")  # (H, W) uint8, the luma plane
            bands.append(grey[: band_height(grey.shape[0])].astype(np.float32))
    return np.stack(bands), fps


def title_stretches(bands: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` frame ranges over which the band stays the same.

    Each frame is compared with the first frame of the current stretch, so a slow drift
    cannot hide a change.
    """
    stretches, start = [], 0
    for i in range(1, len(bands)):
        if np.abs(bands[i] - bands[start]).mean() > CHANGE_THRESHOLD:
            stretches.append((start, i))
            start = i
    stretches.append((start, len(bands)))
    return stretches
