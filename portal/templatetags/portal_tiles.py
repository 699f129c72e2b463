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


@register.filter
def tile_css(color: object) -> SafeString:
    """The CSS rule of ``tile_class(color)`` (empty for an invalid colour)."""
    digits = _hex(color)
    if digits is None:
        return mark_safe("")
    return mark_safe(f".tile-c-{digits}{{--tile-color:#{digits}}}")  # noqa: S308  (hex digits only)
