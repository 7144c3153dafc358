"""`record`, `field` and `replace`: dataclasses' own, without their cost at start-up.

dataclasses.dataclass writes a class's __init__, __repr__, __eq__, __hash__ and, when
frozen, __setattr__ and __delattr__ as source text and compiles each: about 1.3 ms a
frozen class here, some 25 ms for the classes a `run` of one feed imports; and importing
dataclasses imports inspect (with ast and dis), a few ms more. record() reads the class's
annotations and defaults itself and gives it methods written here once, which read the
fields when called; __init__ alone is compiled, on a class's first instance. What
dataclasses.fields(), replace() and asdict() read (__dataclass_fields__) is made by
dataclasses when first asked for, so they work on a record as on any dataclass. Type
checkers see dataclasses' own functions and check every use as before.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

__all__ = ["field", "record", "replace"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class _Field:
    __slots__ = ("compare", "default", "factory", "hash", "repr")

    def __init__(self, default: Any, factory: Any, repr: bool, compare: bool,
                 hash: bool | None) -> None:
        if default is not MISSING and factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.default, self.factory, self.repr = default, factory, repr
        self.compare, self.hash = compare, hash


if TYPE_CHECKING:
    from dataclasses import dataclass as record
    from dataclasses import field, replace
else:
    def record(cls: type | None = None, /, *, frozen: bool = False) -> Any:
        """@record or @record(frozen=True), like @dataclass (no other options)."""
        def wrap(cls: type) -> type:
            _make(cls, frozen)
            return cls
        return wrap if cls is None else wrap(cls)

    def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
              compare: bool = True, hash: bool | None = None) -> Any:
        """dataclasses.field() for a record (the options records use)."""
        return _Field(default, default_factory, repr, compare, hash)

    def replace(obj: Any, /, **changes: Any) -> Any:
        """dataclasses.replace(): `obj` with `changes`, made through its __init__."""
        names = getattr(type(obj), "__record_fields__", None)
        if names is None:  # a dataclass of dataclasses' own
            import dataclasses

            return dataclasses.replace(obj, **changes)
        values = {name: getattr(obj, name) for name in names}
        values.update(changes)
        return type(obj)(**values)


class _DataclassFields:
    """__dataclass_fields__ (or __dataclass_params__) of a record, made by dataclasses
    from the same fields when first read, then kept on the class in its place."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, obj: Any, owner: type) -> Any:
        import dataclasses

        specs: dict[str, _Field] = owner.__dict__["__record_specs__"]
        made = dataclasses.make_dataclass(
            owner.__name__,
            [(name, owner.__annotations__[name], dataclasses.field(
                default=dataclasses.MISSING if spec.default is MISSING else spec.default,
                default_factory=dataclasses.MISSING if spec.factory is MISSING
                else spec.factory, repr=spec.repr, compare=spec.compare, hash=spec.hash))
             for name, spec in specs.items()],
            frozen=owner.__dict__["__record_frozen__"])
        for attribute in ("__dataclass_fields__", "__dataclass_params__"):
            setattr(owner, attribute, made.__dict__[attribute])
        return made.__dict__[self.attribute]


def _tuple_of(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names) if names else lambda obj: ()


def _specs(cls: type) -> dict[str, _Field]:
    """The class's fields in order, with their defaults, set on the class as dataclass
    leaves them (a default stays as the class attribute, a factory's is removed)."""
    if any("__record_fields__" in vars(base) or "__dataclass_fields__" in vars(base)
           for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__name__}: a record cannot inherit fields; use dataclass")
    if "__post_init__" in vars(cls):
        raise TypeError(f"{cls.__name__}: a record has no __post_init__; use dataclass")
    specs = {}
    for name, annotation in vars(cls).get("__annotations__", {}).items():
        if str(annotation).split("[")[0].rsplit(".")[-1] in ("ClassVar", "InitVar"):
            raise TypeError(f"{cls.__name__}.{name}: a record has no {annotation}")
        value = vars(cls).get(name, MISSING)
        if type(value).__module__ == "dataclasses":
            raise TypeError(f"{cls.__name__}.{name}: dataclasses.field in a record; "
                            "use feedgen_dw.records.field")
        spec = value if isinstance(value, _Field) else _Field(value, MISSING, True, True, None)
        if spec.default is not MISSING:
            setattr(cls, name, spec.default)
        elif name in vars(cls):
            delattr(cls, name)
        specs[name] = spec
    required = [name for name, spec in specs.items()
                if spec.default is MISSING and spec.factory is MISSING]
    if required and list(specs).index(required[-1]) >= len(required):
        raise TypeError(f"{cls.__name__}: non-default field {required[-1]!r} follows a "
                        "default one")
    return specs


def _compiled_init(specs: dict[str, _Field]) -> Callable[..., None]:
    """An __init__ taking the fields as dataclass's does (defaults, default factories),
    setting them through __dict__, which a frozen class's __setattr__ does not stop."""
    env: dict[str, Any] = {"MISSING": MISSING}
    params, lines = [], []
    for name, spec in specs.items():
        if spec.default is not MISSING:
            env[f"default_{name}"] = spec.default
            params.append(f"{name}=default_{name}")
        elif spec.factory is not MISSING:
            env[f"factory_{name}"] = spec.factory
            params.append(f"{name}=MISSING")
            lines.append(f"    if {name} is MISSING: {name} = factory_{name}()")
        else:
            params.append(name)
    values = ", ".join(f"{name!r}: {name}" for name in specs)
    lines.append(f"    self.__dict__.update({{{values}}})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(lines), env)
    init: Callable[..., None] = env["__init__"]
    return init


def _make(cls: type, frozen: bool) -> None:
    specs = _specs(cls)
    names = frozenset(specs)
    shown = [name for name, spec in specs.items() if spec.repr]
    compared = _tuple_of([name for name, spec in specs.items() if spec.compare])
    hashed = _tuple_of([name for name, spec in specs.items()
                        if (spec.compare if spec.hash is None else spec.hash)])

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # the first instance compiles the class's own __init__ (as dataclass would have
        # at import), so only the classes a command uses pay for it
        init = _compiled_init(specs)
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

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __setattr__(self: Any, key: str, value: Any) -> None:
        if type(self) is cls or key in names:
            raise _frozen_error(f"cannot assign to field {key!r}")
        object.__setattr__(self, key, value)

    def __delattr__(self: Any, key: str) -> None:
        if type(self) is cls or key in names:
            raise _frozen_error(f"cannot delete field {key!r}")
        object.__delattr__(self, key)

    methods: dict[str, Any] = {
        "__init__": __init__, "__repr__": __repr__, "__eq__": __eq__,
        "__hash__": None,  # as dataclass's: a mutable one is unhashable
        "__match_args__": tuple(specs), "__record_fields__": tuple(specs),
        "__record_specs__": specs, "__record_frozen__": frozen,
        "__dataclass_fields__": _DataclassFields("__dataclass_fields__"),
        "__dataclass_params__": _DataclassFields("__dataclass_params__")}
    if frozen:
        methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    for key, method in methods.items():
        setattr(cls, key, method)


def _frozen_error(message: str) -> Exception:
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(message)
