"""`record`: dataclasses.dataclass without compiling code for each class at import.

dataclasses.dataclass writes a class's __init__, __repr__, __eq__, __hash__ and, when
frozen, __setattr__ and __delattr__ as source text and compiles each: about 1.3 ms a
frozen class here, some 25 ms for the classes a `run` of one feed imports, a fifth of
its start-up. record() has dataclasses make the class without those methods (so
dataclasses.fields() and replace() work on it as on any dataclass) and gives it methods
made here once, which read the class's fields when called. Type checkers see
dataclasses.dataclass itself, so they check every use as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

__all__ = ["record"]

if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    def record(cls: type | None = None, /, *, frozen: bool = False) -> Any:
        """@record or @record(frozen=True), like @dataclass (no other options)."""
        def wrap(cls: type) -> type:
            if hasattr(cls, "__post_init__"):
                raise TypeError(f"{cls.__name__}: record() has no __post_init__; use dataclass")
            made = dataclasses.dataclass(cls, init=False, repr=False, eq=False)
            _add_methods(made, frozen)
            return made
        return wrap if cls is None else wrap(cls)


def _tuple_of(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names) if names else lambda obj: ()


def _compiled_init(fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    """An __init__ taking the fields as dataclass's does (defaults, default factories),
    setting them through __dict__, which a frozen class's __setattr__ does not stop."""
    env: dict[str, Any] = {"MISSING": dataclasses.MISSING}
    params, lines = [], []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            env[f"default_{f.name}"] = f.default
            params.append(f"{f.name}=default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=MISSING")
            lines.append(f"    if {f.name} is MISSING: {f.name} = factory_{f.name}()")
        else:
            params.append(f.name)
    values = ", ".join(f"{f.name!r}: {f.name}" for f in fields)
    lines.append(f"    self.__dict__.update({{{values}}})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(lines), env)
    init: Callable[..., None] = env["__init__"]
    return init


def _add_methods(cls: type, frozen: bool) -> None:
    fields = dataclasses.fields(cls)
    names = frozenset(f.name for f in fields)
    shown = [f.name for f in fields if f.repr]
    compared = _tuple_of([f.name for f in fields if f.compare])
    hashed = _tuple_of([f.name for f in fields if (f.compare if f.hash is None else f.hash)])

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # the first instance compiles the class's own __init__ (as dataclass would have
        # at import), so only the classes a command uses pay for it
        init = _compiled_init(fields)
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = init  # type: ignore[misc]
        init(self, *args, **kwargs)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{key}={getattr(self, key)!r}" for key in shown)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return compared(self) == compared(other)

    methods: dict[str, Any] = {"__init__": __init__, "__repr__": __repr__, "__eq__": __eq__,
                               "__hash__": None}  # as dataclass's: mutable, so unhashable
    if not frozen:
        for key, method in methods.items():
            setattr(cls, key, method)
        return

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __setattr__(self: Any, key: str, value: Any) -> None:
        if type(self) is cls or key in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {key!r}")
        object.__setattr__(self, key, value)

    def __delattr__(self: Any, key: str) -> None:
        if type(self) is cls or key in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {key!r}")
        object.__delattr__(self, key)

    methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    for key, method in methods.items():
        setattr(cls, key, method)
