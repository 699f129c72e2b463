"""The page of a refused upstream sign-in, as a first-grader reads it: nobody is signed in, so
the grade is not known and the page is in kana with furigana on every kanji of the portal's
own text (the roster's organisation name is data and stays as stored); English stays English;
a provider for staff only answers in plain Japanese."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from sso.models import FailureReason
from tests.factories import SchoolFactory, TeacherFactory
from tests.portal.test_age import check
from tests.sso.idps import make_idp
from tests.sso.pages import read_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def school() -> Any:
    return SchoolFactory.create(name="まなび市立さくら小学校", parent__name="まなび市教育委員会")


def refused(client: Client, provider_id: str) -> str:
    """Press a disabled provider's button: the refusal page, before any request to the IdP."""
    answer = client.post(f"/accounts/oidc/{provider_id}/login/")
    assert answer.status_code == HTTPStatus.FORBIDDEN
    html = answer.content.decode()
    assert f'data-reason="{FailureReason.DISABLED}"' in html
    return html


def test_a_child_whose_grade_is_unknown_reads_kana_and_furigana(school, client):
    idp = make_idp(school.parent, provider_id="t-refused", enabled=False)
    html = refused(client, "t-refused")
    furigana = check(html, allowed=[idp.org.name])
    assert furigana.bare == []
    assert "せんせい" in furigana.readings
    assert '<html lang="ja"' in html
    assert read_text(html) == (
        "ログイン できませんでした この ボタンでは いまは ログイン できません。 "
        "先生に この がめんを みせてね。 "
        "先生へ: 理由のコード「disabled」（学校の管理の「外部ログイン」で確かめられます） "
        "くわしくは まなび市教育委員会の まなびハブの 担当者に お問い合わせください。 "
        "ログインの がめんに もどる"
    )


def test_the_organisation_name_is_data_never_notation(client):
    school = SchoolFactory.create(parent__name="｜悪《わる》い<b>委員会</b>")
    make_idp(school.parent, provider_id="t-refused", enabled=False)
    html = refused(client, "t-refused")
    assert "<b>委員会" not in html
    assert "<rt>わる</rt>" not in html
    assert "&lt;b&gt;委員会&lt;/b&gt;" in html


def test_english_stays_english(school, client):
    make_idp(school.parent, provider_id="t-refused", enabled=False)
    client.cookies["django_language"] = "en"
    html = refused(client, "t-refused")
    assert "<ruby>" not in html
    assert "Show this screen to your teacher." in read_text(html)


def test_a_provider_for_staff_only_answers_in_plain_japanese(school, client):
    make_idp(
        school.parent,
        provider_id="t-refused",
        enabled=False,
        allow_students=False,
        allow_staff=True,
    )
    html = refused(client, "t-refused")
    assert "<ruby>" not in html
    assert "先生に この がめんを みせてね。" in read_text(html)


def test_a_signed_in_teacher_keeps_the_plain_text(school, client):
    make_idp(school.parent, provider_id="t-refused", enabled=False)
    client.force_login(TeacherFactory.create(org=school))
    assert "<ruby>" not in refused(client, "t-refused")
