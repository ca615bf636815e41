"""JSON from clients parsed with a nesting limit.

The standard parser recurses per nesting level, so `[[[[...` ten thousand deep raises
RecursionError (a 500 and a reset connection). The depth is measured first with a linear scan
that skips string contents, then the text is parsed; too deep or malformed is a 400.
"""
from __future__ import annotations

import json
import re
from typing import Any

from lingnav_http.errors import HttpError

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """Deepest bracket nesting in `text`, ignoring brackets inside strings (no recursion)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group(0) in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def parse_json(text: str | bytes, what: str = "body", max_depth: int = 32, max_chars: int = 1_000_000) -> Any:
    """Parsed JSON, or HttpError 400 naming `what` and what is wrong with it."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise HttpError(400, f"{what} is not UTF-8") from err
    if len(text) > max_chars:
        raise HttpError(413, f"{what} longer than {max_chars} characters")
    if json_depth(text) > max_depth:
        raise HttpError(400, f"{what} is nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except HttpError:
        raise
    except (ValueError, RecursionError) as err:
        raise HttpError(400, f"{what} is not valid JSON: {err}") from err


def _reject_constant(name: str):
    raise HttpError(400, f"JSON constant {name} is not allowed (numbers must be finite)")
