"""Qt-free signals and handler chains: how the core tells the UI that something changed, and how several
panels take turns at one user action without replacing each other's methods.

- :class:`Signal`: ``connect(callback)``; ``emit(*args)`` calls every callback in the order they were
  connected, on the emitting thread (the session emits on the GUI thread only).
- :class:`HandlerChain`: handlers with an explicit ``order`` (lower first, ties in the order added);
  ``dispatch(*args)`` calls them until one returns True (it handled the action). ``describe()`` lists the
  chain, so the order is visible in one place instead of depending on which module installed first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Signal:
    """A list of callbacks; ``emit`` calls each in connection order."""

    def __init__(self, name: str = ""):
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)


@dataclass(frozen=True)
class Handler:
    order: int
    name: str
    function: Callable[..., bool | None]


class HandlerChain:
    """Handlers of one user action (a click in 3D, files dropped on the window), run in ``order``."""

    def __init__(self, action: str):
        self.action = action
        self._handlers: list[Handler] = []

    def add(self, order: int, name: str, function: Callable[..., bool | None]) -> None:
        """Add ``function``; it returns True when it handled the action (later handlers are skipped)."""
        if any(h.name == name for h in self._handlers):
            raise ValueError(f"{self.action}: a handler named {name!r} is already in the chain")
        self._handlers.append(Handler(order, name, function))
        self._handlers.sort(key=lambda h: h.order)  # stable: equal orders keep the order they were added

    def dispatch(self, *args: Any) -> bool:
        for handler in list(self._handlers):
            if handler.function(*args):
                return True
        return False

    def describe(self) -> list[str]:
        return [f"{h.order} {h.name}" for h in self._handlers]
