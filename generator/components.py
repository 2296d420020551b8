"""Registries of components, and the checks their parameters share.

Every variant of the engine (a source, a motion, a compositing, a sampling, a background) is a
small frozen dataclass registered under its name in the registry of its kind. Its fields are its
parameters, checked when it is made, so that a spec carries only the parameters it uses:

    >>> MOTIONS.create({"name": "classic", "step_length": 0.2})
    Classic(step_length=0.2)
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import numbers
import typing
from typing import ClassVar


def not_allowed(parameter: str, value, allowed) -> ValueError:
    """The one sentence for a name that is not one of `allowed`, with the closest one to suggest."""
    allowed = list(allowed)
    close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"{parameter}={value!r} is not allowed: choose one of {', '.join(allowed)}{hint}")


def parameter(default, low, high, meaning: str, *, open_low: bool = False, span: bool = False):
    """A component parameter: its default, allowed range and meaning, declared once.

    The type is the default's (int or float); `Component.__post_init__` checks every value against
    the range, and the README, the card and `--set` read the same declaration.
    span: the value may also be a `(min, max)` pair within the range, drawn from per object.
    """
    integral = isinstance(default[0] if isinstance(default, tuple) else default, int)
    bounds = {"low": low, "high": high, "open_low": open_low, "integer": integral, "span": span}
    return dataclasses.field(default=default, metadata={"meaning": meaning, **bounds})


def choice(default: str, options: tuple[str, ...], meaning: str):
    """A parameter that is one of a few names, such as how a path meets the canvas's edges."""
    return dataclasses.field(default=default, metadata={"meaning": meaning, "options": options})


def allowed(f: dataclasses.Field) -> str:
    """A parameter's allowed values in words: "1 .. 10", "(0, 1]", "a or b"."""
    m = f.metadata
    if "options" in m:
        return " or ".join(m["options"])
    if "low" not in m:
        return m.get("allowed", "")
    if m["integer"]:
        text = f"{m['low']} .. {m['high']}"
    else:
        text = f"{'(' if m['open_low'] else '['}{m['low']}, {m['high']}]"
    return f"{text}, or a (min, max) pair" if m["span"] else text


class Component:
    """A registered variant: `name` says which, the dataclass fields are its parameters."""

    name: ClassVar[str]
    kind: ClassVar[str]  # the registry's kind, set when registered: "source", "motion", ...

    def __post_init__(self):
        for f in dataclasses.fields(self):
            m = f.metadata
            name, value = f"{self.kind}.{f.name}", getattr(self, f.name)
            if "low" in m:
                check = integer if m["integer"] else functools.partial(number, open_low=m["open_low"])
                if m["span"]:
                    set_field(self, f.name, span(name, value, check, m["low"], m["high"]))
                else:
                    set_field(self, f.name, check(name, value, m["low"], m["high"]))
            elif "options" in m and value not in m["options"]:
                raise not_allowed(name, value, m["options"])
        self.check()

    def check(self) -> None:
        """Checks beyond each parameter's range (several parameters together)."""

    def parameters(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def as_dict(self) -> dict:
        """`{"name": ..., parameter: value, ...}`: how configs, cards and the command line spell it."""
        return {"name": self.name, **{k: list(v) if isinstance(v, tuple) else v for k, v in self.parameters().items()}}


class Registry(dict):
    """The components of one kind, by name; each name is declared once, by `register`."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def register(self, cls: type) -> type:
        if cls.name in self:
            raise RuntimeError(f"{self.kind} {cls.name!r} is registered twice")
        cls.kind = self.kind
        self[cls.name] = cls
        return cls

    def __getitem__(self, name):
        if not isinstance(name, str) or name not in self:  # None, a list: not a name (nor maybe hashable)
            raise not_allowed(self.kind, name, self)
        return super().__getitem__(name)

    def create(self, value, base: Component | None = None) -> Component:
        """A component from its name, its `as_dict()` form, or itself.

        A dict without "name", or with the name of `base`, changes only the parameters it gives;
        otherwise the named component starts from its defaults.
        """
        if isinstance(value, Component):
            if value.kind != self.kind:
                raise ValueError(f"{self.kind}={value!r} is not allowed: it is a {value.kind}")
            return value
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            raise not_allowed(self.kind, value, self)
        parameters = dict(value)
        name = parameters.pop("name", base.name if base is not None else None)
        if name is None:
            raise ValueError(f"{self.kind}={value!r} needs a 'name': one of {', '.join(self)}")
        cls = self[name]
        if base is not None and base.name == name:
            parameters = {**base.parameters(), **parameters}
        known = [f.name for f in dataclasses.fields(cls)]
        for key in parameters:
            if key not in known:
                allowed = ", ".join(known) or "none"
                raise ValueError(f"{self.kind}.{key} is not a parameter of {self.kind} {name!r}: its parameters are {allowed}")
        return cls(**parameters)

    def parameter_types(self) -> dict[str, type]:
        """`"kind.parameter" -> type` for every parameter of every component (for the command line)."""
        types = {}
        for cls in self.values():
            hints = typing.get_type_hints(cls)
            for f in dataclasses.fields(cls):
                types[f"{self.kind}.{f.name}"] = hints[f.name]
        return types


# --- checks shared by components' __post_init__ -------------------------------------------------------


def set_field(component, field: str, value) -> None:
    object.__setattr__(component, field, value)  # normalising a frozen dataclass's field


def integer(parameter: str, value, low: int, high: int) -> int:
    """`value` as a plain int, or `ValueError` unless it is an integer in low..high."""
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and low <= value <= high):
        raise ValueError(f"{parameter}={value!r} must be an integer from {low} to {high}")
    return int(value)


def number(parameter: str, value, low: float, high: float, *, open_low: bool = False) -> float:
    """`value` as a float, or `ValueError` unless it is a number in [low, high] ((low, high] if open_low)."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (real and (low < value if open_low else low <= value) and value <= high):
        interval = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
        raise ValueError(f"{parameter}={value!r} must be a number in {interval}")
    return float(value)


def span(parameter: str, value, check, low, high):
    """A number, or a `(min, max)` pair of them (a tuple, min <= max), each checked by `check`."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{parameter}={value!r} must be a number or a (min, max) pair")
        pair = tuple(check(parameter, v, low, high) for v in value)
        ordered(parameter, "min", pair[0], "max", pair[1])
        return pair
    return check(parameter, value, low, high)


def bounds(value) -> tuple:
    """(min, max) of a `span` parameter's value: the value twice when it is a single number."""
    return tuple(value) if isinstance(value, tuple) else (value, value)


def ordered(parameter: str, low_name: str, low, high_name: str, high) -> None:
    if low > high:
        raise ValueError(f"{parameter}: {low_name}={low!r} must not exceed {high_name}={high!r}")
