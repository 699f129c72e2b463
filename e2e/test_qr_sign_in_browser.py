"""A QR sign-in card printed by the portal, shown to Chromium's camera, signs the child in.

The teacher prints the class's cards in the portal (the PDF download); the test renders the
PDF's page with PDFium (pypdfium2), cuts one card out, and writes it as a Y4M video that
Chromium plays as its camera (``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture``). The card sign-in page decodes the frames with the
bundled jsQR and posts the card: the child lands on their home. A card the teacher revoked is
refused with the page a child can read, and nobody is signed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect
from reportlab.lib.pagesizes import A4

from signin_cards.pdf import CARD_H, CARD_W, COLUMNS, ROWS

from .conftest import (
    ACTION_TIMEOUT,
    CHROMIUM,
    CHROMIUM_ARGS,
    NAVIGATION_TIMEOUT,
    VIEWPORT,
    DemoServer,
)
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "manabi-demo"
TEACHER, CLASS_CODE = "sakura-t-kato", "5-2"
REVOKED = "このカードは つかえません。せんせいに いってね。"
FRAME_W, FRAME_H = 640, 480
RENDER_SCALE = 3.0  # PDF points to pixels: 216 dpi


def card_image(pdf: bytes, slot: int) -> Image.Image:
    """Card number ``slot`` (0-based, in print order) of the first page, as a grey image."""
    page = pypdfium2.PdfDocument(pdf)[0]
    sheet = page.render(scale=RENDER_SCALE).to_pil().convert("L")
    page_w, page_h = A4
    column, row = slot % COLUMNS, slot // COLUMNS
    left = (page_w - COLUMNS * CARD_W) / 2 + column * CARD_W
    top = (page_h - ROWS * CARD_H) / 2 + row * CARD_H
    box = (left, top, left + CARD_W, top + CARD_H)
    left_px, top_px, right_px, bottom_px = (round(v * RENDER_SCALE) for v in box)
    return sheet.crop((left_px, top_px, right_px, bottom_px))


def write_y4m(card: Image.Image, path: Path, frames: int = 10) -> None:
    """The card held up to a 640×480 camera, as YUV 4:2:0 frames (grey: chroma at 128)."""
    width = FRAME_W - 40
    held = card.resize((width, round(card.height * width / card.width)))
    frame = Image.new("L", (FRAME_W, FRAME_H), 90)  # a dim desk around the card
    frame.paste(held, ((FRAME_W - held.width) // 2, (FRAME_H - held.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (FRAME_W // 2 * FRAME_H // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{FRAME_W} H{FRAME_H} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)


def sign_in_teacher(page: Page, server: DemoServer) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(TEACHER)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page).to_have_url(server.url("/"))


def print_cards(page: Page) -> bytes:
    page.get_by_test_id(f"cards-{CLASS_CODE}").click()
    expect(page.get_by_test_id("cards-table")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("print-class").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    return pdf


def children(page: Page) -> list[tuple[str, str]]:
    """The class's children in print order: (username, the row's text)."""
    rows = page.locator("[data-testid^='card-row-']")
    return [
        (str(row.get_attribute("data-testid")).removeprefix("card-row-"), row.inner_text())
        for row in rows.all()
    ]


Camera = Callable[[Image.Image, str], BrowserContext]


@pytest.fixture
def camera(playwright: Playwright, tmp_path: Path) -> Iterator[Camera]:
    """``camera(card_image)``: a Chromium whose camera shows the card, and a fresh context in
    it with the camera allowed (closed at the end)."""
    opened: list[Browser] = []

    def open_context(image: Image.Image, base_url: str) -> BrowserContext:
        video = tmp_path / f"card-{len(opened)}.y4m"
        write_y4m(image, video)
        browser = playwright.chromium.launch(
            headless=True,
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        opened.append(browser)
        context = browser.new_context(
            base_url=base_url,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            viewport=VIEWPORT,
            permissions=["camera"],
        )
        context.set_default_timeout(ACTION_TIMEOUT)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
        return context

    yield open_context
    for browser in opened:
        browser.close()


def test_a_printed_card_signs_the_child_in_and_a_revoked_card_is_refused(
    context: BrowserContext, demo_server: DemoServer, camera: Camera, artifacts_dir: Path
) -> None:
    teacher = context.new_page()
    sign_in_teacher(teacher, demo_server)
    pdf = print_cards(teacher)
    teacher.reload()
    assert_accessible(teacher)  # the class's cards page
    kids = children(teacher)
    assert len(kids) >= 2
    (first, first_row), (second, _second_row) = kids[0], kids[1]

    # The first child: the card from the portal's PDF, in front of the camera.
    child = camera(card_image(pdf, 0), demo_server.base_url).new_page()
    child.goto("/accounts/login/")
    child.get_by_test_id("card-signin-link").click()
    expect(child).to_have_url(demo_server.url("/"))
    expect(child.get_by_test_id("my-scores-link")).to_be_visible()
    names = first_row.split()[1:5]  # the row: 出席番号, the name in kana, then in kanji
    expect(child.get_by_test_id("who")).to_contain_text(
        re.compile("|".join(re.escape(n) for n in names))
    )
    child.screenshot(path=artifacts_dir / "qr-sign-in-home.png")
    assert_accessible(child)  # the child's home

    # The teacher revokes the second child's card; shown to the camera, it is refused.
    teacher.get_by_test_id(f"revoke-{second}").click()
    expect(teacher.get_by_test_id("cards-message")).to_be_visible()
    refused = camera(card_image(pdf, 1), demo_server.base_url)
    page = refused.new_page()
    page.goto("/signin/card/")
    expect(page.get_by_test_id("card-error")).to_have_text(REVOKED)
    expect(page).to_have_url(demo_server.url("/signin/card/"))
    expect(page.get_by_test_id("scan-start")).to_be_visible()  # waits for a tap to look again
    page.screenshot(path=artifacts_dir / "qr-sign-in-revoked.png")
    assert_accessible(page)  # the card page (it waits for a tap: nothing navigates meanwhile)
    page.goto("/")  # nobody is signed in
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert first != second
