"""Publish zero once when going idle, then stay silent: zeros sent while idle would override teleop."""
from __future__ import annotations

from lingnav_ros.control.types import Command


class CommandGate:
    def __init__(self, zero_repeats: int = 1) -> None:
        self.zero_repeats = zero_repeats
        self._zeros_left = 0
        self._active = False

    def filter(self, active: bool, cmd: Command | None) -> Command | None:
        """`active`: the navigator wants to drive (cmd is then published, zero if None).
        Inactive: `zero_repeats` zero commands after the last active tick, then None."""
        if active:
            self._active = True
            self._zeros_left = self.zero_repeats
            return cmd if cmd is not None else Command(0.0, 0.0)
        if self._active:
            self._active = False
            self._zeros_left = self.zero_repeats
        if self._zeros_left > 0:
            self._zeros_left -= 1
            return Command(0.0, 0.0)
        return None

    def force_zero(self) -> None:
        """Make the next inactive tick publish zero again (e-stop, cancel)."""
        self._zeros_left = max(self._zeros_left, self.zero_repeats)
