"""portal/furigana.py: the kana catalogue's notation becomes <ruby> in text and the reading
where markup cannot go; nothing else on the page changes."""

from __future__ import annotations

import pytest

from portal.furigana import render_page, to_plain, to_ruby

RUBY = "<ruby>先生<rp>（</rp><rt>せんせい</rt><rp>）</rp></ruby>"


def test_notation_becomes_ruby_in_text() -> None:
    assert to_ruby("｜先生《せんせい》に きいてね") == f"{RUBY}に きいてね"
    assert to_ruby("｜見《み》る ｜本《ほん》") == (
        "<ruby>見<rp>（</rp><rt>み</rt><rp>）</rp></ruby>る "
        "<ruby>本<rp>（</rp><rt>ほん</rt><rp>）</rp></ruby>"
    )


def test_notation_becomes_the_reading_where_no_markup_goes() -> None:
    page = (
        "<!DOCTYPE html><html><head><title>｜先生《せんせい》 | まなびハブ</title></head>"
        '<body><nav aria-label="｜先生《せんせい》">'
        '<input placeholder="｜名前《なまえ》" value="x">'
        "<textarea>｜先生《せんせい》</textarea><select><option>｜先生《せんせい》</option></select>"
        "<p>｜先生《せんせい》</p></nav></body></html>"
    )
    assert render_page(page) == (
        "<!DOCTYPE html><html><head><title>せんせい | まなびハブ</title></head>"
        '<body><nav aria-label="せんせい">'
        '<input placeholder="なまえ" value="x">'
        "<textarea>せんせい</textarea><select><option>せんせい</option></select>"
        f"<p>{RUBY}</p></nav></body></html>"
    )


def test_scripts_styles_and_comments_are_left_alone() -> None:
    page = (
        "<script>let a = '｜先生《せんせい》';</script><style>/* ｜先生《せんせい》 */</style>"
        "<!-- ｜先生《せんせい》 --><p>｜先生《せんせい》</p>"
    )
    assert render_page(page) == (
        "<script>let a = '｜先生《せんせい》';</script><style>/* ｜先生《せんせい》 */</style>"
        f"<!-- ｜先生《せんせい》 --><p>{RUBY}</p>"
    )


@pytest.mark.parametrize(
    "text",
    [
        "先生《せんせい》",  # no ｜: not notation (a placeholder's value could join the base)
        "｜abc《えー》",  # a base that is not kanji
        "｜先生《teacher》",  # a reading that is not kana
        "｜先生《&lt;b&gt;》",
        "｜先生《》",
        "｜先生&#x300A;せんせい&#x300B;",  # |user_text's character references
        "《せんせい》",
    ],
)
def test_anything_else_stays_as_it_is(text: str) -> None:
    assert to_ruby(text) == text
    assert to_plain(text) == text
    assert render_page(f"<p>{text}</p>") == f"<p>{text}</p>"


def test_a_page_without_notation_is_returned_unchanged() -> None:
    page = "<p>先生に きいてね</p>"
    assert render_page(page) is page
