"""One instruction, several destinations: "go to the red chair, then to the blue box".

The parts of such an instruction run as the steps of one mission, in order, each asked of S2 as
an instruction of its own ("go to the blue box"). Only an instruction whose parts all name a
destination is split: "turn left 90 degrees, then go two metres forward" stays one instruction
(S2 reads spoken moves in order), and "the box between the chair and the table" is one place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# separators between steps: "then", "and then", "after that", ";" and commas (a list)
_SEPARATORS = re.compile(r"\s*(?:,\s*and\s+then|,\s*then|\band\s+then|,\s*after\s+that,?|\bafter\s+that,?"
                         r"|\bthen|;|,\s*and\b|,)\s*", re.IGNORECASE)
_GOAL_VERB = re.compile(r"^(?:please\s+)?(?:go|drive|head|move|walk|navigate|come|get|return|find)\b", re.IGNORECASE)
_BARE_TO = re.compile(r"^(?:to|towards?|on\s+to)\s+", re.IGNORECASE)
_MOTION = re.compile(r"\b(?:turn|rotate|spin|forward|backward|back\s+up|metres?|meters?|degrees?|steps?|stop)\b",
                     re.IGNORECASE)
_LAST_AND = re.compile(r"\s+and\s+(?=(?:the|a|an|to)\b)", re.IGNORECASE)


def split_steps(instruction: str) -> list[str]:
    """The mission's steps: several when every part names a destination, else [instruction]."""
    text = (instruction or "").strip()
    parts = [p.strip(" .!") for p in _SEPARATORS.split(text) if p and p.strip(" .!")]
    if len(parts) >= 2 and "," in text:
        # "the red chair, the blue box and the green bin": the last comma item may hold an "and"
        parts = parts[:-1] + [p.strip() for p in _LAST_AND.split(parts[-1]) if p.strip()]
    if len(parts) < 2:
        return [text] if text else []
    steps = []
    for part in parts:
        if _MOTION.search(part) and not _GOAL_VERB.match(part):
            return [text]  # spoken moves: S2 reads them in order as one instruction
        if _GOAL_VERB.match(part):
            steps.append(part)
        else:
            steps.append("go " + part if _BARE_TO.match(part) else "go to " + part)
    if not _GOAL_VERB.match(parts[0]):
        return [text]
    return steps


@dataclass
class StepPlan:
    """The steps of the running mission and how each ended."""

    steps: list[str] = field(default_factory=list)
    instruction: str = ""
    index: int = 0
    ended: list[tuple[str, str]] = field(default_factory=list)  # (state name, reason) per finished step

    @classmethod
    def of(cls, instruction: str) -> StepPlan:
        text = (instruction or "").strip()
        return cls(split_steps(text) or [text], text)

    @property
    def count(self) -> int:
        return len(self.steps)

    @property
    def current(self) -> str:
        return self.steps[self.index] if self.steps else ""

    @property
    def has_next(self) -> bool:
        return self.index + 1 < len(self.steps)

    def advance(self, state_name: str, reason: str) -> str:
        """Close the current step, move to the next; -> the reason to show meanwhile."""
        self.ended.append((state_name, reason))
        done = f"step {self.index + 1}/{self.count} arrived ({reason})"
        self.index += 1
        return f"{done}; next: '{self.current}'"

    def qualify(self, reason: str) -> str:
        """A final reason that says which step it belongs to (unchanged for one-step missions)."""
        if self.count <= 1 or not reason:
            return reason
        return f"{reason} (step {self.index + 1}/{self.count}: '{self.current}')"
