"""Pick the torch device a computation runs on: ``"auto"`` takes cuda, then mps, then cpu.

Shared by every torch path of genailab (language models, the bitmap classifier, the N-body
universe). Each is tested on the CPU and runs unchanged on a GPU; an explicit choice that this
machine lacks is a clear error rather than a silent fallback, so a run never ends up on another
device than the one asked for. Apple's mps has no float64, so a float64 computation asks with
``float64=True`` and ``"auto"`` then skips it.
"""

from __future__ import annotations

import torch

from genailab.errors import GenailabError, UnknownNameError, suggest

DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailableError(GenailabError, RuntimeError):
    """A device that is a valid choice but that this machine does not have."""


def available_devices() -> list[str]:
    """The device kinds this machine can use, best first.

    Examples
    --------
    >>> "cpu" in available_devices()
    True
    """
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def resolve_device(device: str | torch.device = "auto", float64: bool = False) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``) or ``"mps"`` into a device.

    Parameters
    ----------
    device : str or torch.device, default "auto"
        ``"auto"`` picks cuda, then mps, then cpu.
    float64 : bool, default False
        The computation needs float64: ``"auto"`` skips mps, and asking for mps is an error.

    Raises
    ------
    UnknownNameError
        For a name that is not one of :data:`DEVICES`.
    DeviceUnavailableError
        For a device this machine lacks; the message names those it has.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise UnknownNameError(f"unknown device {device!r} (accepted: {', '.join(DEVICES)})")
    available = available_devices()
    if float64:
        available = [d for d in available if d != "mps"]  # mps has no float64
    if device == "auto":
        return torch.device(available[0])
    kind, _, index = device.partition(":")
    if kind not in DEVICES[1:] or (index and not (kind == "cuda" and index.isdigit())):
        raise UnknownNameError(
            f"unknown device {device!r}{suggest(device, DEVICES)} (accepted: {', '.join(DEVICES)})"
        )
    if kind not in available:
        raise DeviceUnavailableError(
            f"device {device!r} is not available on this machine; available: "
            f"{', '.join(['auto', *available])}"
        )
    if index and int(index) >= torch.cuda.device_count():
        raise DeviceUnavailableError(
            f"device {device!r} is not available: this machine has "
            f"{torch.cuda.device_count()} cuda device(s)"
        )
    return torch.device(device)
