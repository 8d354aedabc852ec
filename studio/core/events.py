"""A minimal observer, so views can mirror the model without the model knowing them."""

from __future__ import annotations

from typing import Any, Callable


class Signal:
    """A list of callbacks called in connection order with the emitted arguments."""

    __slots__ = ("_slots", "name")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)
