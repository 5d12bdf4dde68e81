"""Headline claims: what a video says, written as predicates on the run's final figures.

An experiment module declares ``CLAIMS``, a tuple of :class:`Claim`; after a run the runner
evaluates each one on the last frame's scalars and writes the outcome, with the numbers it
compared, into ``summary.json``. The gallery and the closing card show each claim as met or
not. A claim is an expression in a tiny language: figure names, numbers, ``+ - * / **``,
comparisons (chains allowed), ``and``, ``or``, ``not`` and the functions ``abs``, ``min``,
``max``. Nothing else parses, so a claim can never run arbitrary code, and every name it uses
must be a figure of the run (a typo is an error, not a claim quietly not met).

The same module fills the templates an experiment writes its closing answer and its
explanation in: ``{name}`` or ``{name:format}`` is replaced by that final figure.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_FUNCTIONS = {"abs": abs, "min": min, "max": max}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:[^{}]*)?\}")


class MissingFigure(KeyError):
    """A claim or template names a figure the run did not measure (a bug of the experiment)."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Claim:
    """One headline claim: ``expr``, a predicate on final figures, and ``text``, its wording.

    Examples
    --------
    >>> claim = Claim("evolution_loss < random_search_loss / 10",
    ...               "evolution ends at least ten times lower than random search")
    >>> outcome = claim.evaluate({"evolution_loss": 2e-7, "random_search_loss": 0.21})
    >>> outcome["met"], outcome["shown"]
    (True, '2e-07 < 0.21 / 10')
    """

    expr: str
    text: str

    def __post_init__(self) -> None:
        names(self.expr)  # parse now: a malformed claim fails when its module is imported

    def evaluate(self, figures: Mapping[str, Any]) -> dict[str, Any]:
        """The claim's outcome on ``figures``: ``met`` (a figure that is None or NaN makes
        it not met), the ``values`` of the figures it uses, and ``shown``, the expression
        with those values written in."""
        used = names(self.expr)
        missing = [name for name in used if name not in figures]
        if missing:
            raise MissingFigure(
                f"claim '{self.expr}' names {', '.join(missing)}, which the run did not "
                f"measure (its figures: {', '.join(figures)})"
            )
        values = {name: figures[name] for name in used}
        unknown = [n for n, v in values.items() if v is None or not math.isfinite(float(v))]
        met = not unknown and bool(_evaluate(ast.parse(self.expr, mode="eval").body, values))
        shown = re.sub(
            r"\b[A-Za-z_][A-Za-z0-9_]*\b",
            lambda m: format_figure(values[m.group()]) if m.group() in values else m.group(),
            self.expr,
        )
        return {"expr": self.expr, "text": self.text, "met": met, "values": values, "shown": shown}


def names(expr: str) -> list[str]:
    """The figure names ``expr`` uses, in order of first use; a malformed one raises
    ``ValueError`` naming what is not allowed.

    Examples
    --------
    >>> names("val_gpt < min(val_bigram, val_mlp) - 0.1")
    ['val_gpt', 'val_bigram', 'val_mlp']
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"claim '{expr}' is not an expression: {err.msg}") from None
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
                raise ValueError(f"claim '{expr}' calls something other than abs, min or max")
            if node.keywords:
                raise ValueError(f"claim '{expr}' passes keyword arguments")
        elif not isinstance(node, _ALLOWED):
            raise ValueError(f"claim '{expr}' uses {type(node).__name__}, which claims cannot")
        elif isinstance(node, ast.Constant) and (
            isinstance(node.value, bool) or not isinstance(node.value, int | float)
        ):
            raise ValueError(f"claim '{expr}' compares {node.value!r}; claims compare numbers")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in _FUNCTIONS:
            found.setdefault(node.id)
    # ast.walk is breadth-first; order the names as they are written.
    return sorted(found, key=lambda name: re.search(rf"\b{name}\b", expr).start())


_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Compare,
    ast.Name,
    ast.Load,
    ast.Constant,
    *_COMPARE,
    *_ARITHMETIC,
)


def _evaluate(node: ast.AST, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ValueError(f"claims compare numbers, not {node.value!r}")
        return node.value
    if isinstance(node, ast.Name):
        return float(values[node.id])
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, values)
        return {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}[
            type(node.op)
        ](value)
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        try:
            return _ARITHMETIC[type(node.op)](left, right)
        except ZeroDivisionError:
            return math.nan  # a figure of 0 in a denominator: the claim is not met
    if isinstance(node, ast.BoolOp):
        results = (_evaluate(v, values) for v in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, values)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(right_node, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        return _FUNCTIONS[node.func.id](*(_evaluate(a, values) for a in node.args))
    raise ValueError(f"claims cannot use {type(node).__name__}")  # pragma: no cover


def format_figure(value: Any) -> str:
    """A figure as the gallery and the cards write it: integers whole, others to 4 digits.

    Examples
    --------
    >>> format_figure(2.16931e-07), format_figure(1868), format_figure(0.5), format_figure(None)
    ('2.169e-07', '1868', '0.5', 'n/a')
    """
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def fill_template(template: str, figures: Mapping[str, Any]) -> str:
    """``template`` with every ``{name}`` / ``{name:format}`` replaced by that figure.

    Braces that do not hold a name (``{0, 1}``, a set in a formula) are left alone; a name
    that is not a figure raises :class:`MissingFigure`; a figure that is None is written n/a.

    Examples
    --------
    >>> fill_template("after {steps} steps: {loss:.2f} nats, on {0, 1}",
    ...               {"steps": 600, "loss": 1.6412})
    'after 600 steps: 1.64 nats, on {0, 1}'
    """

    def replace(match: re.Match) -> str:
        name, spec = match.group(1), (match.group(2) or ":")[1:]
        if name not in figures:
            raise MissingFigure(
                f"'{{{name}}}' in the text is not a figure of the run "
                f"(its figures: {', '.join(figures)})"
            )
        value = figures[name]
        if value is None:
            return "n/a"
        if not spec:
            return format_figure(value)
        try:
            return format(value, spec)
        except ValueError:  # an int figure with a float format, say
            return format(float(value), spec)

    return _PLACEHOLDER.sub(replace, template)


def template_names(template: str) -> list[str]:
    """The figure names a template uses.

    Examples
    --------
    >>> template_names("{a:.2f} and {b}, not {0, 1}")
    ['a', 'b']
    """
    return [m.group(1) for m in _PLACEHOLDER.finditer(template)]
