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


def login_page(error: str) -> str:
    """The whole text of the sign-in page showing ``error``."""
    return f"ログイン 🪪 カードで ログイン {error} ユーザー名 パスワード ログインする"
