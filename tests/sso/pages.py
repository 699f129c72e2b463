"""What the sign-in pages say: the words of <main>, and the sign-in page's messages."""

from __future__ import annotations

from html.parser import HTMLParser

MISMATCH = "ユーザー名か パスワードが ちがいます。もういちど いれてね。"
REFUSED = (
    "ログインの まちがいが おおいので、いまは ログイン できません。"
    "しばらく まってから もういちど ためしてね。わからないときは せんせいに きいてね。"
)


_VOID = frozenset(
    {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _Main(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _VOID:  # no end tag: counting one would never leave <main>
            return
        if tag == "main" or self.depth:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.words.extend(data.split())


def main_text(html: str) -> str:
    """The words of a page's <main>, whitespace collapsed."""
    parser = _Main()
    parser.feed(html)
    return " ".join(parser.words)


class _Read(_Main):
    """The text of <main> as read, without the furigana's readings (``<rt>``, ``<rp>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        super().handle_starttag(tag, attrs)
        if self.depth and tag in {"rt", "rp"}:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        if self.skip and tag in {"rt", "rp"}:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip:
            self.chunks.append(data)


def read_text(html: str) -> str:
    """The words of a page's <main> with furigana's readings left out, whitespace collapsed:
    ``<ruby>先生<rt>せんせい</rt></ruby>に`` reads 「先生に」."""
    parser = _Read()
    parser.feed(html)
    return " ".join("".join(parser.chunks).split())


def login_page(error: str) -> str:
    """The whole text of the sign-in page showing ``error``."""
    return f"ログイン 🪪 カードで ログイン {error} ユーザー名 パスワード ログインする"
