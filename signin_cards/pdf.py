"""The printed cards: an A4 PDF, ten cards a page (two columns, five rows, cut lines).

Each card shows the child's name in kana (large; on two lines, family and given name, when it
does not fit on one beside the QR code), the class and 出席番号, the school, and the QR code of
its secret, drawn as vector squares (segno's module matrix) so it stays sharp at any
printer resolution. Japanese is set in ReportLab's CID font ``HeiseiKakuGo-W5`` (Adobe-Japan1):
ReportLab embeds only TrueType outlines, and Debian's Noto CJK fonts are OpenType/CFF, so
instead of shipping a font file the PDF names a standard Japanese font that every PDF reader
(Acrobat, pdf.js, PDFium in Chromium) supplies.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from .services import PrintedCard

FONT = "HeiseiKakuGo-W5"
COLUMNS, ROWS = 2, 5
CARD_W, CARD_H = 91 * mm, 55 * mm
QR_SIZE = 42 * mm  # QR code with its quiet zone (4 modules)
TEXT_LEFT = 6 * mm  # from the card's left edge
QR_RIGHT = 3 * mm  # from the card's right edge to the QR code's
# The text column: from TEXT_LEFT to 2 mm before the QR code (nothing runs under it).
TEXT_WIDTH = CARD_W - TEXT_LEFT - QR_SIZE - QR_RIGHT - 2 * mm
NAME_SIZES = (20, 18, 16, 14, 12)
MIN_SIZE = 6
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of ``text`` with its quiet zone in the square at (x, y) of ``size``."""
    code = segno.make(text, error="m", micro=False)
    rows = list(code.matrix_iter(border=4))
    module = size / len(rows)
    for r, row in enumerate(rows):
        top = y + size - (r + 1) * module
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * module, top, module, module, stroke=0, fill=1)


def _fits(text: str, font: str, size: float) -> bool:
    return pdfmetrics.stringWidth(text, font, size) <= TEXT_WIDTH


def _fitted(text: str, font: str, size: float) -> tuple[str, float]:
    """``text`` at ``size`` or smaller (to MIN_SIZE) so it fits the text column, else cut."""
    while size > MIN_SIZE and not _fits(text, font, size):
        size -= 0.5
    while len(text) > 1 and not _fits(text, font, size):
        text = text[:-1]
    return text, size


def name_lines(name: str, font: str) -> tuple[list[str], float]:
    """The kana name as the card prints it: one line as large as fits, else family and given
    name on two lines (split at the space), else one line made small enough."""
    for size in NAME_SIZES[:2]:
        if _fits(name, font, size):
            return [name], size
    parts = name.replace("\u3000", " ").split(maxsplit=1)
    if len(parts) == 2:
        for size in NAME_SIZES:
            if all(_fits(part, font, size) for part in parts):
                return parts, size
    line, smaller = _fitted(name, font, NAME_SIZES[-1])
    return [line], smaller


def _card(canvas: Canvas, card: PrintedCard, x: float, y: float) -> None:
    font = _font()
    canvas.setDash(3, 3)
    canvas.setLineWidth(0.5)
    canvas.setStrokeGray(0.6)
    canvas.rect(x, y, CARD_W, CARD_H, stroke=1, fill=0)  # cut line
    canvas.setDash()
    canvas.setFillGray(0)
    qr_x = x + CARD_W - QR_SIZE - QR_RIGHT
    _qr(canvas, card.secret, qr_x, y + (CARD_H - QR_SIZE) / 2, QR_SIZE)
    left = x + TEXT_LEFT
    school, size = _fitted(card.school_name, font, 9)
    canvas.setFont(font, size)
    canvas.drawString(left, y + CARD_H - 10 * mm, school)
    number = f"  {card.shusseki_no}ばん" if card.shusseki_no is not None else ""
    klass, size = _fitted(f"{card.class_title}{number}", font, 12)
    canvas.setFont(font, size)
    canvas.drawString(left, y + CARD_H - 18 * mm, klass)
    lines, size = name_lines(card.kana_name, font)
    canvas.setFont(font, size)
    if len(lines) == 1:
        canvas.drawString(left, y + CARD_H - 31 * mm, lines[0])
    else:
        for index, line in enumerate(lines):
            canvas.drawString(left, y + CARD_H - 27 * mm - index * 1.2 * size, line)
    canvas.setFont(font, 8)
    canvas.drawString(left, y + 9 * mm, "ログインカード")
    canvas.drawString(left, y + 5 * mm, "ほかの ひとに わたさないでね")


def cards_pdf(cards: Sequence[PrintedCard], *, title: str) -> bytes:
    """The PDF of ``cards``, in order (an empty list gives one empty page)."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("Manabi Hub")
    page_w, page_h = A4
    margin_x = (page_w - COLUMNS * CARD_W) / 2
    margin_y = (page_h - ROWS * CARD_H) / 2
    per_page = COLUMNS * ROWS
    for index, card in enumerate(cards):
        slot = index % per_page
        if index and slot == 0:
            canvas.showPage()
        column, row = slot % COLUMNS, slot // COLUMNS
        x = margin_x + column * CARD_W
        y = page_h - margin_y - (row + 1) * CARD_H
        _card(canvas, card, x, y)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
