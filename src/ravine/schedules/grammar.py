"""The string form of schedules (the CLI's ``--lr-schedule``, study specs): :func:`parse`,
:func:`usage`, and the names and aliases it reads."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from . import compose, cycles, decay, plateau
from .base import Schedule
from .checks import Steps
from .compose import Warmup, join

__all__ = ["ALIASES", "NAMES", "parse", "usage"]

NAMES: dict[str, Callable[..., Schedule]] = {
    "constant": decay.constant,
    "step_decay": decay.step_decay,
    "multi_step": decay.multi_step,
    "exponential": decay.exponential,
    "inverse_time": decay.inverse_time,
    "cosine": decay.cosine,
    "polynomial": decay.polynomial,
    "linear": decay.linear,
    "warmup": compose.warmup,
    "one_cycle": cycles.one_cycle,
    "cyclic": cycles.cyclic,
    "reduce_on_plateau": plateau.reduce_on_plateau,
}
"""Schedule names for :func:`parse` (``join`` is written with ``>``)."""

ALIASES: dict[str, str] = {
    "const": "constant",
    "step": "step_decay",
    "multistep": "multi_step",
    "exp": "exponential",
    "invtime": "inverse_time",
    "inverse": "inverse_time",
    "cos": "cosine",
    "poly": "polynomial",
    "onecycle": "one_cycle",
    "1cycle": "one_cycle",
    "clr": "cyclic",
    "plateau": "reduce_on_plateau",
}

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LENGTH = Steps()

Part = tuple[Schedule, int | None]
"""A schedule and how many steps it runs before the next ('@N'), None if not given."""


def _value(token: str) -> Any:
    low = token.lower()
    if low in ("none", "init"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if "," in token:
        return tuple(_value(t) for t in token.split(",") if t.strip())
    if _NUMBER.match(token):
        if re.match(r"^[+-]?\d+$", token):
            return int(token)
        return float(token)
    return token


def _grammar() -> str:
    names = ", ".join(NAMES)
    return (
        "grammar: NAME[:ARG...][>NAME[:ARG...]...], ARG a value or key=value, e.g. "
        f"'cosine:1000', 'linear:0.5:0.99:200', 'warmup:100>cosine:900'; names: {names}"
    )


def usage(name: str) -> str:
    """The string form of schedule ``name``, e.g. ``cosine:TOTAL[:FINAL][:init=VALUE]``."""
    fn = NAMES[ALIASES.get(name, name)]
    out = ALIASES.get(name, name)
    for prm in inspect.signature(fn).parameters.values():
        if prm.name == "then":  # written as 'warmup:STEPS>SPEC'
            continue
        if prm.kind is inspect.Parameter.KEYWORD_ONLY:
            out += f"[:{prm.name}=VALUE]"
        elif prm.default is inspect.Parameter.empty:
            out += f":{prm.name.upper()}"
        else:
            out += f"[:{prm.name.upper()}]"
    return out


def _arguments(spec: str, text: str, tokens: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """The positional and keyword arguments written after a schedule's name."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for tok in tokens:
        if not tok:
            raise ValueError(f"schedule {spec!r}: empty argument in {text!r}; {_grammar()}")
        key, eq, val = tok.partition("=")
        if eq:
            if kwargs.get(key.strip()) is not None:
                raise ValueError(f"schedule {spec!r}: {key.strip()} given twice")
            kwargs[key.strip()] = _value(val.strip())
        elif kwargs:
            raise ValueError(
                f"schedule {spec!r}: positional argument {tok!r} after a keyword argument"
            )
        else:
            args.append(_value(tok))
    return args, kwargs


def _part(spec: str, text: str) -> Part:
    """One ``NAME:ARG...[@STEPS]`` of ``spec``."""
    head, _, length = text.partition("@")
    tokens = [t.strip() for t in head.split(":")]
    name = tokens[0].lower()
    name = ALIASES.get(name, name)
    if not name:
        raise ValueError(f"schedule {spec!r}: empty schedule name; {_grammar()}")
    if name not in NAMES:
        raise ValueError(f"schedule {spec!r}: unknown schedule {tokens[0]!r}; {_grammar()}")
    fn = NAMES[name]
    args, kwargs = _arguments(spec, text, tokens[1:])
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as err:
        raise ValueError(f"schedule {spec!r}: {err}; write it as {usage(name)}") from None
    try:
        sched = fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        raise ValueError(f"schedule {spec!r}: {err}") from None
    n = (
        _LENGTH(f"schedule {spec!r}", "length after '@'", _value(length.strip()))
        if length
        else None
    )
    return sched, n


def _fold_warmups(parts: list[Part]) -> list[Part]:
    """Each ``warmup:N`` followed by ``B`` becomes one warm-up into ``B``."""
    folded: list[Part] = []
    for sched, n in reversed(parts):
        if folded and isinstance(sched, Warmup) and sched.then is None and n is None:
            then, rest = folded.pop()
            span = rest if rest is not None else then.length
            merged = compose.warmup(sched.steps, then, start=sched.start)
            folded.append((merged, None if span is None else sched.steps + span))
        else:
            folded.append((sched, n))
    folded.reverse()
    return folded


def _boundaries(spec: str, parts: list[Part]) -> list[int]:
    """The steps where each part after the first begins."""
    boundaries, position = [], 0
    for k, (sched, n) in enumerate(parts[:-1]):
        span = n if n is not None else sched.length
        if span is None:
            raise ValueError(
                f"schedule {spec!r}: part {k + 1} ({sched!r}) has no natural end; write "
                f"it as NAME:...@STEPS before '>'"
            )
        position += span
        boundaries.append(position)
    return boundaries


def parse(spec: str) -> Schedule:
    """A schedule from its string form (the CLI's ``--lr-schedule``, ``--momentum-schedule``).

    Grammar::

        SPEC  := PART ('>' PART)*
        PART  := NAME (':' ARG)* ['@' STEPS]
        ARG   := VALUE | KEY '=' VALUE          as the Python function takes them
        VALUE := int | float | int,int,... | none | true | false | word

    Names (aliases in brackets): constant [const], step_decay [step], multi_step
    [multistep], exponential [exp], inverse_time [invtime, inverse], cosine [cos],
    polynomial [poly], linear, warmup, one_cycle [onecycle, 1cycle], cyclic [clr],
    reduce_on_plateau [plateau].

    ``A>B`` runs ``A`` for its length (``@STEPS``, or the ``steps``/``total`` it was given),
    then ``B`` from its own step 0 (:func:`join`); ``warmup:N>B`` warms up towards ``B``.

    >>> parse("cosine:1000")                  # cosine(1000), relative to the initial value
    >>> parse("linear:0.5:0.99:200")          # momentum 0.5 -> 0.99 over 200 steps
    >>> parse("multistep:30,80:0.1")          # x0.1 at steps 30 and 80
    >>> parse("warmup:500>cosine:9500:final=1e-5")
    >>> parse("exp:0.99@100>constant:0.3")    # exponential for 100 steps, then 0.3

    Malformed specs raise ValueError naming the spec, the fault and the grammar.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"schedule spec must be a non-empty string, got {spec!r}; {_grammar()}")
    parts = _fold_warmups([_part(spec, p.strip()) for p in spec.split(">")])
    if len(parts) == 1:
        return parts[0][0]
    return join([s for s, _ in parts], _boundaries(spec, parts))
