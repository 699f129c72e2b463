"""Load the demo school, users and tools (idempotent) and print the demo sign-ins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db.models import F

from demo_tools.setup import provision_lrs_credentials, register_demo_tools
from lti_platform.keys import ensure_keys
from roster.demo import BOARD_CODE, DEMO_PASSWORD, create_demo_roster
from roster.models import Org, OrgType, SchoolClass
from sso.mfa_demo import give_demo_authenticators
from studylog.forwarder import set_password
from studylog.models import LrsEndpoint
from tools_registry.models import Tool

# The readings (よみがな) of the names the demo's first-graders read (furigana in the kana
# style): the board and the schools by code, the P1–P3 classes by (school code, class code),
# the tools by slug. まなびドリル has no kanji and needs none.
ORG_READINGS = {
    BOARD_CODE: "まなびし きょういく いいんかい",
    "B113210000010": "まなびしりつ さくらしょうがっこう",
    "C113210000019": "まなびしりつ みどりちゅうがっこう",
}
CLASS_READINGS = {("B113210000010", "1-1"): "いちねん いちくみ"}
TOOL_READINGS = {"demo-textbook": "デジタルきょうかしょ", "demo-cbt": "シービーティー テスト"}


def give_demo_readings() -> None:
    """Give the demo's names their readings (idempotent, like the rest of the seed)."""
    for code, reading in ORG_READINGS.items():
        Org.objects.filter(identifier=code).update(name_kana=reading, name_kana_of=F("name"))
    for (school, klass), reading in CLASS_READINGS.items():
        SchoolClass.objects.filter(school__identifier=school, class_code=klass).update(
            title_kana=reading, title_kana_of=F("title")
        )
    for slug, reading in TOOL_READINGS.items():
        Tool.objects.filter(slug=slug).update(name_kana=reading, name_kana_of=F("name"))


def demo_lrs(url: str, username: str, password: str) -> LrsEndpoint:
    """The demo board forwards its study logs to ``url`` (one LRS row, updated in place)."""
    board = Org.objects.get(type=OrgType.DISTRICT, identifier=BOARD_CODE)
    lrs = LrsEndpoint.objects.filter(board=board, name="デモ LRS（Ralph）").first() or LrsEndpoint(
        board=board, name="デモ LRS（Ralph）"
    )
    lrs.url, lrs.username, lrs.active = url, username, True
    set_password(lrs, password)
    lrs.save()
    return lrs


class Command(BaseCommand):
    help = "Create the demo board of education, schools, users and the three demo LTI tools."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="", help="where the demo tools are served")
        parser.add_argument(
            "--lrs-url",
            default="",
            help="the demo board's external LRS (xAPI base URL; scripts/demo_lrs.sh serves one)",
        )
        parser.add_argument("--lrs-user", default="manabi-demo")
        parser.add_argument("--lrs-password", default="manabi-demo-lrs")

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_keys()
        sign_ins = create_demo_roster()
        base_url = options["base_url"] or settings.LTI_ISSUER
        register_demo_tools(base_url, settings.LTI_ISSUER)
        provision_lrs_credentials(base_url, settings.LTI_ISSUER)  # the tools' own statements
        give_demo_readings()
        if options["lrs_url"]:
            lrs = demo_lrs(options["lrs_url"], options["lrs_user"], options["lrs_password"])
            self.stdout.write(f"\n学習記録（xAPI）の送信先 LRS: {lrs.url}")
        self.stdout.write(f"\nデモ用サインイン（パスワードはすべて {DEMO_PASSWORD}）:")
        for s in sign_ins:
            self.stdout.write(f"  {s.username:<22} {s.label}")
        # Administrators must use MFA (sso/mfa_policy.py): the demo's have an authenticator.
        self.stdout.write(
            "\n管理者は2段階認証が必要です。認証アプリに次の設定キーを入れるか、"
            "`manage.py mfa_demo_code <ユーザー名>` でいまのコードを表示してください:"
        )
        for demo in give_demo_authenticators():
            key = demo.secret or "(本人が設定した認証アプリ)"
            self.stdout.write(f"  {demo.username:<22} {key}")
