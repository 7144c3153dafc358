"""record() behaves as dataclass for everything the package uses of it."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import FrozenInstanceError, asdict, dataclass, fields
from typing import Any

import pytest

from feedgen_dw.records import field, record, replace


@record(frozen=True)
class Frozen:
    """A frozen record."""

    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True)
class FrozenDc:
    """The same as a dataclass."""

    a: int
    b: str = "b"
    c: list[int] = dataclasses.field(default_factory=list, compare=False, repr=False)


@record
class Mutable:
    """A mutable record."""

    a: int
    c: list[int] = field(default_factory=list)


def test_a_record_is_made_equal_compared_hashed_and_shown_as_a_dataclass() -> None:
    one, dc = Frozen(1, c=[5]), FrozenDc(1, c=[5])
    assert repr(one).replace("Frozen", "") == repr(dc).replace("FrozenDc", "") == "(a=1, b='b')"
    assert one == Frozen(1, "b", [9]) and one != Frozen(2) and one != dc
    assert hash(one) == hash(Frozen(1, c=[7]))
    assert asdict(one) == asdict(dc) and [f.name for f in fields(one)] == ["a", "b", "c"]
    assert replace(one, b="x") == Frozen(1, "x") and replace(one, b="x").c == [5]
    # dataclasses' own replace, through the __dataclass_fields__ made when first asked for
    assert dataclasses.replace(one, b="y") == Frozen(1, "y") and dataclasses.is_dataclass(one)
    assert replace(dc, b="z") == FrozenDc(1, "z")  # records.replace on a dataclass
    assert Frozen(1).c is not Frozen(1).c  # a new list each
    assert pickle.loads(pickle.dumps(one)) == one == copy.copy(one)


def test_a_frozen_record_refuses_changes_and_a_mutable_one_takes_them() -> None:
    one = Frozen(1)
    with pytest.raises(FrozenInstanceError):
        one.a = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del one.a  # type: ignore[misc]
    m = Mutable(1)
    m.a = 2
    m.c.append(1)
    assert m == Mutable(2, [1])
    with pytest.raises(TypeError):
        hash(m)


@pytest.mark.parametrize(("args", "kwargs"), [
    ((), {}), ((1, "x", [], 4), {}), ((1,), {"a": 2}), ((1,), {"z": 1})])
def test_wrong_arguments_are_the_type_errors_a_dataclass_raises(
        args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError) as mine:
        Frozen(*args, **kwargs)
    with pytest.raises(TypeError) as theirs:
        FrozenDc(*args, **kwargs)
    assert str(mine.value).replace("Frozen", "") == str(theirs.value).replace("FrozenDc", "")


def test_what_a_record_does_not_take_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match=r"records\.field"):
        @record
        class WithDataclassField:
            a: list[int] = dataclasses.field(default_factory=list)
    with pytest.raises(TypeError, match="follows a default"):
        @record
        class Unordered:
            a: int = 1
            b: int
