"""The errors a user of genailab can cause, each with a message that names the bad value.

The CLI turns every :class:`GenailabError` into one line on stderr and exit code 2; the
Python API lets it propagate. Each subclass also derives from the built-in exception a
Python user would expect (``ValueError``, ``KeyError``-like lookups as ``LookupError``,
``OSError`` for files), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GenailabError(Exception):
    """Base class of every error a user can cause; its message is one self-contained line."""


class ConfigError(GenailabError, ValueError):
    """A configuration key or value that the experiment's config dataclass does not accept."""


class UnknownNameError(GenailabError, LookupError):
    """A name (experiment, format, preset, ...) that is not among the accepted ones."""

    def __str__(self) -> str:  # LookupError would otherwise repr() the message with quotes
        return str(self.args[0]) if self.args else ""


class OutputError(GenailabError, OSError):
    """An output folder or file that cannot be written."""


def suggest(value: str, accepted: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest accepted names, or ``""``.

    Examples
    --------
    >>> suggest("gradient-decent", ["gradient-descent", "perceptron"])
    "; did you mean 'gradient-descent'?"
    >>> suggest("zzz", ["gradient-descent"])
    ''
    """
    matches = difflib.get_close_matches(value, list(accepted), n=3, cutoff=0.6)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


class DataError(GenailabError, ValueError):
    """Input data (``X``, ``y``, queries) that an estimator or index cannot use."""


class NotFittedError(GenailabError, ValueError, AttributeError):
    """A method that needs a fitted estimator, called before ``fit``.

    Both a ``ValueError`` and an ``AttributeError``, as scikit-learn's own ``NotFittedError``
    is, so code written for scikit-learn's estimators catches it too.
    """
