"""What people type to the color backend, read into explicit moves and a target query.

People write "please go to the dark-blue box", "the bin that is green", "go two meters forward",
"not the red box, the blue one". This module turns such text into the move tasks the
instruction itself asks for and a `TargetQuery` (colour, shade, object noun, size word, and what
was ruled out), which the backend grounds in the image. Pure functions, table-tested.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lingnav_core.colors import PALETTE, SHADE_SYNONYMS, SHADES, SYNONYMS

_POLITE = re.compile(r"\b(?:please|pls|kindly|thank you|thanks|could you|can you|would you mind|would you|"
                     r"will you|i want you to|i would like you to|i'd like you to)\b")
_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
            "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "half a": 0.5, "half": 0.5,
            "fifteen": 15.0, "thirty": 30.0, "forty five": 45.0, "sixty": 60.0, "ninety": 90.0,
            "one hundred and eighty": 180.0, "a hundred and eighty": 180.0, "one hundred eighty": 180.0}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted((re.escape(k) for k in _NUMBERS), key=len, reverse=True)) + r")"
_DEG = r"\s*(?:degrees?|deg)\b"
_METRES = r"\s*(?:m|meters?|metres?)\b"
_DIRECTION = r"(forward|forwards|ahead|straight|back|backward|backwards)"
_GO = r"\b(?:go|move|drive|head|walk)\s+"
_MOVES = [
    ("turn", re.compile(r"\bturn\s+(?:to\s+(?:the|your)\s+)?(left|right)(?:\s+(?:by\s+)?" + _NUM + _DEG + r")?")),
    ("turn_rev", re.compile(r"\bturn\s+(?:by\s+)?" + _NUM + _DEG + r"\s+(?:to\s+(?:the|your)\s+)?(left|right)")),
    ("around", re.compile(r"\bturn\s+around\b")),
    ("drive", re.compile(_GO + _DIRECTION + r"\s+(?:by\s+|for\s+)?" + _NUM + _METRES)),
    ("drive_rev", re.compile(_GO + _NUM + _METRES + r"\s+" + _DIRECTION)),
]
_NEGATION = re.compile(r"\b(?:not|instead of|rather than|except|but not|never mind)\s+(?:the|a|an|that)?\s*"
                       r"([\w ]+?)\s*(?=,|;|\bbut\b|\bthe\b|$)")
_RELATIVE = re.compile(r"\b(?:the|a|an)\s+(\w+)\s+(?:that|which)\s+(?:is|looks|s)\s+((?:(?:dark|light|deep|pale|"
                       r"pastel|bright)\s+)?\w+)")
_ARTICLE = re.compile(r"\b(?:the|a|an)\s+([\w ]+?)\s*(?=,|;|\bthen\b|\band\b|$)")
SIZE_WORDS = {"big": "big", "bigger": "big", "biggest": "big", "large": "big", "larger": "big", "largest": "big",
              "small": "small", "smaller": "small", "smallest": "small", "little": "small", "tiny": "small",
              "tall": "tall", "taller": "tall", "tallest": "tall", "high": "tall",
              "short": "short", "shorter": "short", "low": "short", "lower": "short", "flat": "short"}
_FILLER = {"one", "thing", "object", "there", "here", "over", "me", "to", "the", "a", "an", "that", "is", "s",
           "in", "on", "at", "of", "near", "next", "front", "please", "go", "find", "move", "drive", "navigate",
           "approach", "reach", "walk", "look", "for", "towards", "toward", "get", "head", "then", "and", "it",
           "search", "locate", "come", "back", "up", "with", "colour", "color", "coloured", "colored", "but"}


# Typical height / width of an object's image (seen from a robot's camera): how the backend
# tells a red box from a red chair. Nouns not listed carry no shape prior.
NOUN_ASPECT = {"chair": 2.0, "box": 0.8, "crate": 0.7, "cube": 1.0, "bin": 1.4, "can": 1.4, "barrel": 1.4,
               "bucket": 1.2, "trash": 1.4, "basket": 1.0, "cabinet": 2.2, "shelf": 2.5, "door": 2.5, "table": 0.6,
               "sofa": 0.5, "couch": 0.5, "bed": 0.4, "bottle": 3.0, "lamp": 3.0, "plant": 1.5, "person": 3.0,
               "ball": 1.0, "pillar": 3.0, "post": 3.0, "stool": 1.2}


@dataclass(frozen=True)
class ObjectWords:
    colour: str | None = None  # a PALETTE name
    shade: str | None = None  # 'dark' | 'light'
    noun: str | None = None
    size: str | None = None  # 'big' | 'small' | 'tall' | 'short'

    @property
    def phrase(self) -> str | None:
        words = [w for w in (self.size, self.shade, self.colour, self.noun) if w]
        return " ".join(words) or None


@dataclass(frozen=True)
class TargetQuery(ObjectWords):
    excluded: tuple[ObjectWords, ...] = ()


def normalise(text: str) -> str:
    """Lower case, hyphens and punctuation to spaces (commas kept as clause marks), no politeness."""
    t = text.lower().replace("-", " ").replace("’", "'")
    t = _POLITE.sub(" ", t)
    t = re.sub(r"[^\w\s,;.']", " ", t)
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)  # full stops, not decimal points
    t = t.replace("'s ", " s ").replace("'", " ")
    return re.sub(r"\s+", " ", t).strip(" ,;")


def _number(word: str) -> float:
    return float(word) if re.fullmatch(r"\d+(?:\.\d+)?", word) else _NUMBERS[word]


def explicit_moves(instruction: str) -> list[dict]:
    """'turn left 90 degrees, then go two meters forward' -> move tasks in the deployed format, in spoken order."""
    text = normalise(instruction)
    found = []
    for kind, pattern in _MOVES:
        for m in pattern.finditer(text):
            if kind in ("turn", "turn_rev"):
                side, amount = (m.group(1), m.group(2)) if kind == "turn" else (m.group(2), m.group(1))
                degrees = _number(amount) if amount else 90.0
                task = {"task": "move", "action": "←" if side == "left" else "→",
                        "number": max(1, round(degrees / 15.0))}
            elif kind == "around":
                task = {"task": "move", "action": "←", "number": 12}
            else:
                direction, amount = (m.group(1), m.group(2)) if kind == "drive" else (m.group(2), m.group(1))
                forward = direction in ("forward", "forwards", "ahead", "straight")
                task = {"task": "move", "action": "↑" if forward else "↓",
                        "number": max(1, round(_number(amount) / 0.5))}
            found.append((m.start(), task))
    return [task for _, task in sorted(found, key=lambda item: item[0])]


def _strip_moves(text: str) -> str:
    for _, pattern in _MOVES:
        text = pattern.sub(" , ", text)
    return text


def object_words(phrase: str) -> ObjectWords:
    """'big dark blue box' -> size big, shade dark, colour blue, noun box (the first content word
    after the colour, else the last content word)."""
    colour = shade = size = None
    content: list[tuple[int, str]] = []
    colour_at = -1
    for i, word in enumerate(phrase.replace(",", " ").split()):
        if word in SIZE_WORDS:
            size = SIZE_WORDS[word]
        elif SHADE_SYNONYMS.get(word, word) in SHADES:
            shade = SHADE_SYNONYMS.get(word, word)
        elif SYNONYMS.get(word, word) in PALETTE:
            colour, colour_at = SYNONYMS.get(word, word), i
        elif word not in _FILLER and not word.isdigit():
            content.append((i, word))
    after = [w for i, w in content if i > colour_at >= 0]
    noun = after[0] if after else (content[-1][1] if content else None)
    return ObjectWords(colour, shade if colour else None, noun, size)


def parse_target(instruction: str) -> TargetQuery:
    """The object the instruction is about, with whatever it rules out."""
    text = _strip_moves(normalise(instruction))
    excluded = []
    for m in _NEGATION.finditer(text):
        words = object_words(m.group(1))
        if words.colour or words.noun:
            excluded.append(words)
    text = _NEGATION.sub(" , ", text)
    text = _RELATIVE.sub(lambda m: f"the {m.group(2)} {m.group(1)}", text)
    candidates = [object_words(m.group(1)) for m in _ARTICLE.finditer(text)]
    candidates = [c for c in candidates if c.colour or c.noun] or [object_words(text)]
    with_colour = [c for c in candidates if c.colour]
    chosen = (with_colour or candidates)[-1]
    noun = chosen.noun
    if noun is None and excluded:
        noun = excluded[-1].noun  # "not the red box, the blue one": the blue box
    return TargetQuery(chosen.colour, chosen.shade, noun, chosen.size, tuple(excluded))
