"""A value derived from a frozen weight (a transposed or normalised kernel, a Winograd
transform), kept while the weight is unchanged, since embedding runs thousands of steps
through the same weights."""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

import torch

T = TypeVar("T")


class FrozenCache(Generic[T]):
    """`get(weight, compute)` returns `compute()`, recomputed only when the weight changes (in
    place too: its version counter is part of the key). Nothing is cached while the weight
    trains (requires grad) or under torch.compile, where comparing the key's data pointer is
    a graph break that made every layer recompile; the compiler hoists the work itself."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value: T | None = None

    def get(self, weight: torch.Tensor, compute: Callable[[], T], *key_extra: object) -> T:
        if weight.requires_grad or torch.compiler.is_compiling():
            return compute()
        key = (weight._version, weight.data_ptr(), weight.device, *key_extra)
        if self._value is None or self._key != key:
            self._key, self._value = key, compute()
        return self._value
