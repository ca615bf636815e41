"""Named object colours: the simulator paints with them, the color backend segments them.

Hues are spread around the HSV circle so that shading (brightness 0.5..1.0) never makes one
colour look like another. Greys, whites and browns are reserved for walls, floor and
non-target obstacles, which the segmentation ignores because they are unsaturated.
"""
from __future__ import annotations

import colorsys

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (215, 25, 25),
    "orange": (235, 125, 20),
    "yellow": (230, 215, 25),
    "green": (30, 175, 45),
    "cyan": (25, 195, 210),
    "blue": (30, 60, 220),
    "purple": (130, 40, 200),
    "pink": (230, 40, 160),
}

# Words people use for the same colours.
SYNONYMS = {"violet": "purple", "magenta": "pink", "turquoise": "cyan", "teal": "cyan"}


def hue_deg(name: str) -> float:
    """Hue of a palette colour in degrees (0..360)."""
    r, g, b = (c / 255.0 for c in PALETTE[name])
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360.0


def colour_in(text: str) -> str | None:
    """The first palette colour named in `text` (or a synonym of one), else None."""
    for word in text.lower().replace(",", " ").replace(".", " ").split():
        word = SYNONYMS.get(word, word)
        if word in PALETTE:
            return word
    return None
