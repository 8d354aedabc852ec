"""Each palette category's colour, as data (Qt-free): the canvas, the palette and the
SVG drawing of a graph all read it here. An unknown category (a plugin's) gets a stable
colour of its own from its name."""

from __future__ import annotations

import colorsys
import hashlib

CATEGORY_COLOURS = {
    "Input/Output": "#3f8f5a", "Dense": "#3d6fb6", "Convolution": "#7a52b3", "Pooling": "#8d6cc4",
    "Activation": "#c47f1f", "Normalization": "#2f9aa0", "Regularization": "#6f7f8f",
    "Recurrent": "#b34f7a", "Attention": "#b3583d", "Merge": "#5f7f2f", "Reshape": "#7f6f4f",
    "Loss": "#b33d3d",
}


def category_hex(category: str) -> str:
    """``#rrggbb`` for a category; the same name always gives the same colour."""
    if category in CATEGORY_COLOURS:
        return CATEGORY_COLOURS[category]
    hue = int(hashlib.md5(category.encode()).hexdigest()[:4], 16) % 360
    r, g, b = colorsys.hsv_to_rgb(hue / 360, 140 / 255, 170 / 255)
    return "#{:02x}{:02x}{:02x}".format(round(r * 255), round(g * 255), round(b * 255))
