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

# Shades: "dark blue" is the colour at DARK_FACTOR of its brightness, "light green" the colour
# mixed LIGHT_MIX of the way to white. Shading keeps a dark colour's brightest face below
# DARK_MAX_VALUE and a light colour's saturation below LIGHT_MAX_SATURATION, which is how the
# color backend tells them apart.
SHADES = ("dark", "light")
SHADE_SYNONYMS = {"deep": "dark", "navy": "dark", "pale": "light", "pastel": "light", "bright": "light"}
DARK_FACTOR = 0.45
LIGHT_MIX = 0.5
DARK_MAX_VALUE = 0.45
LIGHT_MAX_SATURATION = 0.55


def named_rgb(name: str) -> tuple[int, int, int]:
    """'blue', 'dark blue', 'dark-blue' or 'light green' -> RGB; ValueError for anything else."""
    words = name.lower().replace("-", " ").split()
    shade = SHADE_SYNONYMS.get(words[0], words[0]) if len(words) == 2 else None
    base = SYNONYMS.get(words[-1], words[-1]) if words else ""
    if base not in PALETTE or len(words) > 2 or (len(words) == 2 and shade not in SHADES):
        raise ValueError(f"unknown colour '{name}'; use one of {sorted(PALETTE)}, optionally "
                         f"prefixed with {' or '.join(SHADES)}")
    rgb = PALETTE[base]
    if shade == "dark":
        return tuple(int(round(c * DARK_FACTOR)) for c in rgb)
    if shade == "light":
        return tuple(int(round(c + (255 - c) * LIGHT_MIX)) for c in rgb)
    return rgb


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
