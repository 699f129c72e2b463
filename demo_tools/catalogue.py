"""What each demo tool offers a teacher: drill units, textbook chapters and pages, CBT tests.

A resource-link launch names its content with custom parameters (``unit``, ``chapter`` and
``page``, ``test``) that the tool itself put into the deep-linking response.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LineItemSpec:
    score_maximum: int
    label: str
    resource_id: str
    tag: str
    reviewable: bool = False  # declare submissionReview (the teacher sees the answers)


@dataclass(frozen=True)
class Offer:
    """One thing a teacher can pick; ``key`` is the picker's form value."""

    key: str
    type: str  # "ltiResourceLink" or "link"
    title: str
    text: str
    custom: dict[str, str] = field(default_factory=dict)
    line_item: LineItemSpec | None = None
    windowed: bool = False  # the teacher picks an opening and closing time (CBT)
    url_name: str = "demo_tools:launch"


@dataclass(frozen=True)
class DrillUnit:
    key: str
    title: str
    text: str
    questions: int = 5


DRILL_UNITS = {
    u.key: u
    for u in (
        DrillUnit("addition", "たしざん", "1けたの たしざん 5もん"),
        DrillUnit("subtraction", "ひきざん", "1けたの ひきざん 5もん"),
        DrillUnit("multiplication", "かけざん", "九九の かけざん 5もん"),
        DrillUnit("kanji", "かんじ", "かんじの よみかた 5もん"),
    )
}
DEFAULT_UNIT = "addition"


@dataclass(frozen=True)
class Question:
    name: str
    text: str
    choices: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class CbtTest:
    key: str
    title: str
    text: str
    questions: tuple[Question, ...]


CBT_TESTS = {
    t.key: t
    for t in (
        CbtTest(
            "practice-1",
            "CBTテスト（練習）",
            "社会・理科の 練習問題 3問",
            (
                Question("q1", "日本の首都はどこですか。", ("東京", "大阪", "京都"), "東京"),
                Question("q2", "1週間は何日ですか。", ("5日", "7日", "10日"), "7日"),
                Question("q3", "水がこおる温度は何度ですか。", ("0度", "50度", "100度"), "0度"),
            ),
        ),
        CbtTest(
            "sansu-1",
            "算数テスト（計算）",
            "たし算・ひき算・かけ算 3問",
            (
                Question("q1", "8 + 7 はいくつですか。", ("14", "15", "16"), "15"),
                Question("q2", "12 − 5 はいくつですか。", ("6", "7", "8"), "7"),
                Question("q3", "6 × 4 はいくつですか。", ("20", "24", "28"), "24"),
            ),
        ),
    )
}
DEFAULT_TEST = "practice-1"


@dataclass(frozen=True)
class Page:
    number: str
    title: str
    body: str


@dataclass(frozen=True)
class Chapter:
    number: str
    title: str
    pages: tuple[Page, ...]


CHAPTERS = {
    c.number: c
    for c in (
        Chapter(
            "1",
            "春のようす",
            (
                Page("4", "校庭の桜", "校庭の桜が咲きました。花びらの数を数えてみましょう。"),
                Page("6", "生き物をさがそう", "どんな生き物が見られるか、観察してみましょう。"),
            ),
        ),
        Chapter(
            "2",
            "天気と気温",
            (
                Page("10", "気温のはかり方", "温度計を使って、1日の気温をはかりましょう。"),
                Page("12", "晴れの日と雨の日", "晴れの日と雨の日で、気温の変わり方を比べよう。"),
            ),
        ),
    )
}


def find_page(chapter: str, page: str) -> tuple[Chapter, Page | None] | None:
    """Return the chapter and page a launch names (page None: the chapter's first page)."""
    found = CHAPTERS.get(chapter)
    if found is None:
        return None
    if not page:
        return found, None
    for p in found.pages:
        if p.number == page:
            return found, p
    return None


def offers(slug: str) -> list[Offer]:
    """Everything one tool offers in its deep-linking picker, in picker order."""
    if slug == "drill":
        return [
            Offer(
                key=f"unit:{u.key}",
                type="ltiResourceLink",
                title=f"{u.title} ドリル",
                text=u.text,
                custom={"unit": u.key},
                line_item=LineItemSpec(
                    u.questions, f"{u.title} ドリル", f"demo-drill-{u.key}", "drill-unit"
                ),
            )
            for u in DRILL_UNITS.values()
        ]
    if slug == "cbt":
        return [
            Offer(
                key=f"test:{t.key}",
                type="ltiResourceLink",
                title=t.title,
                text=t.text,
                custom={"test": t.key},
                line_item=LineItemSpec(
                    len(t.questions), t.title, f"demo-cbt-{t.key}", "cbt-test", reviewable=True
                ),
                windowed=True,
            )
            for t in CBT_TESTS.values()
        ]
    if slug == "textbook":
        items: list[Offer] = []
        for c in CHAPTERS.values():
            items.append(
                Offer(
                    key=f"chapter:{c.number}",
                    type="ltiResourceLink",
                    title=f"第{c.number}章　{c.title}",
                    text=f"第{c.number}章の はじめから",
                    custom={"chapter": c.number},
                )
            )
            items.extend(
                Offer(
                    key=f"page:{c.number}-{p.number}",
                    type="ltiResourceLink",
                    title=f"第{c.number}章　{c.title}（{p.number}ページ）",
                    text=p.title,
                    custom={"chapter": c.number, "page": p.number},
                )
                for p in c.pages
            )
        items.append(
            Offer(
                key="link:glossary",
                type="link",
                title="ことばの じてん（用語集）",
                text="教科書に出てくる ことばの いみ",
                url_name="demo_tools:glossary",
            )
        )
        return items
    return []
