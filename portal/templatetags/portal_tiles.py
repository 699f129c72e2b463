"""Tile colours without inline styles: the strict Content-Security-Policy blocks ``style=""``.

A tile carries a class named for its colour (``tile-c-e8710a``); the page's nonce'd ``<style>``
block gives each class its ``--tile-color``. Only a ``#rrggbb`` colour becomes a class or a
rule (anything else leaves the default accent), so no stored value can add CSS of its own.
"""

from __future__ import annotations

import re

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_RRGGBB = re.compile(r"#[0-9a-fA-F]{6}")


def _hex(color: object) -> str | None:
    """Return ``color``'s six hex digits in lower case, or None unless it is ``#rrggbb``."""
    if isinstance(color, str) and _RRGGBB.fullmatch(color):
        return color[1:].lower()
    return None


@register.filter
def tile_class(color: object) -> str:
    """The class that gives a tile ``color`` (empty for an invalid colour)."""
    digits = _hex(color)
    return f"tile-c-{digits}" if digits else ""


def _luminance(digits: str) -> float:
    """WCAG 2 relative luminance of a ``rrggbb`` colour."""

    def channel(pair: str) -> float:
        c = int(pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(digits[i : i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def tile_ink(digits: str) -> str:
    """White or near-black text, whichever contrasts more with the tile's colour (a vendor's
    orange or yellow with white text fails WCAG's 4.5:1)."""
    background = _luminance(digits)
    on_white = (1.0 + 0.05) / (background + 0.05)
    on_ink = (background + 0.05) / (_luminance("1d2733") + 0.05)
    return "#fff" if on_white >= on_ink else "#1d2733"


@register.filter
def tile_css(color: object) -> SafeString:
    """The CSS rule of ``tile_class(color)`` (empty for an invalid colour)."""
    digits = _hex(color)
    if digits is None:
        return mark_safe("")
    rule = f".tile-c-{digits}{{--tile-color:#{digits};--tile-ink:{tile_ink(digits)}}}"
    return mark_safe(rule)  # noqa: S308  (hex digits and our two colours only)
