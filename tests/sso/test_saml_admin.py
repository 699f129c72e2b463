"""The administrators' SAML pages: a board adds its SAML sign-in from the real IdP's metadata
(by URL or by file), sees what to register at the IdP, tests it; bad metadata is refused in
words with nothing written; other organisations' administrators get 404."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialApp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEvent
from roster.models import Org, OrgType, User
from sso import saml
from sso.models import IdentityProvider, IdpKind, MatchRule
from tests.peers.saml_idp import SamlIdP

pytestmark = pytest.mark.django_db

UID = "urn:oid:0.9.2342.19200300.100.1.1"


def board() -> Org:
    return Org.objects.get(type=OrgType.DISTRICT, name="まなび市教育委員会")


def form(**fields: object) -> dict[str, object]:
    return {
        "name_ja": "まなび市 SAML",
        "name_en": "Manabi City SAML",
        "metadata_url": "",
        "match_rule": MatchRule.USERNAME,
        "match_claim": UID,
        "allowed_domains": "",
        "allow_students": "on",
        **fields,
    }


def test_board_adds_saml_by_metadata_url(
    demo_school: dict[str, User], signed_in, saml_idp: SamlIdP
) -> None:
    client: Client = signed_in("manabi-board-admin")
    url = f"/school/org/{board().sourced_id}/sign-in/add-saml"

    response = client.post(url, form(metadata_url=saml_idp.metadata_url), follow=True)

    assert response.status_code == HTTPStatus.OK
    idp = IdentityProvider.objects.get()
    app = idp.app
    assert (idp.kind, idp.org, idp.match_rule, idp.match_claim) == (
        IdpKind.SAML,
        board(),
        MatchRule.USERNAME,
        UID,
    )
    assert (app.provider, app.provider_id) == ("saml", app.client_id)
    assert app.settings["idp"] == saml.fetch_metadata(saml_idp.metadata_url)
    assert app.settings["metadata_url"] == saml_idp.metadata_url
    assert app.settings["advanced"] == saml.FORCED
    body = response.content.decode()
    assert saml.sp_entity_id(app.client_id) in body
    assert f"http://testserver/accounts/saml/{app.client_id}/acs/" in body
    after = AuditEvent.objects.get(action="idp.added").after
    assert after is not None
    assert after["entity_id"] == saml_idp.entity_id
    assert len(after["certificate_sha256"]) == 95  # 32 bytes as AA:BB:…


def test_board_adds_saml_by_metadata_file(
    demo_school: dict[str, User], signed_in, saml_idp: SamlIdP
) -> None:
    client: Client = signed_in("manabi-board-admin")
    upload = SimpleUploadedFile(
        "idp.xml", saml_idp.metadata_xml().encode(), content_type="application/xml"
    )

    response = client.post(
        f"/school/org/{board().sourced_id}/sign-in/add-saml", form(metadata_file=upload)
    )

    assert response.status_code == HTTPStatus.FOUND
    app = IdentityProvider.objects.get().app
    assert app.settings["idp"]["entity_id"] == saml_idp.entity_id
    assert "metadata_url" not in app.settings


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        (
            {"metadata_file": SimpleUploadedFile("x.xml", b"<nope")},
            "XML のメタデータではありません",
        ),
        ({"metadata_url": "ftp://idp.example/metadata"}, "http:// か https:// で始めて"),
        ({}, "メタデータの URL を入力するか"),
        ({"metadata_url": "http://127.0.0.1:9/metadata"}, "取得できません"),
    ],
)
def test_unusable_metadata_is_a_400_in_words_and_nothing_is_written(
    demo_school: dict[str, User], signed_in, fields: dict[str, object], words: str
) -> None:
    client: Client = signed_in("manabi-board-admin")

    response = client.post(f"/school/org/{board().sourced_id}/sign-in/add-saml", form(**fields))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert words in response.content.decode()
    assert not IdentityProvider.objects.exists()
    assert not SocialApp.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="idp.").exists()


def test_a_school_administrator_cannot_configure_the_board(
    demo_school: dict[str, User], signed_in, saml_idp: SamlIdP
) -> None:
    client: Client = signed_in("sakura-admin")

    response = client.post(
        f"/school/org/{board().sourced_id}/sign-in/add-saml",
        form(metadata_url=saml_idp.metadata_url),
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not IdentityProvider.objects.exists()


def test_edit_keeps_the_metadata_and_check_refetches_it(
    demo_school: dict[str, User], signed_in, saml_idp: SamlIdP
) -> None:
    client: Client = signed_in("manabi-board-admin")
    base = f"/school/org/{board().sourced_id}/sign-in"
    client.post(f"{base}/add-saml", form(metadata_url=saml_idp.metadata_url))
    idp = IdentityProvider.objects.get()

    response = client.post(
        f"{base}/{idp.pk}/saml", form(name_ja="まなび市の SAML", metadata_url="")
    )

    assert response.status_code == HTTPStatus.FOUND
    idp.refresh_from_db()
    assert idp.name_ja == "まなび市の SAML"
    assert idp.app.settings["idp"]["entity_id"] == saml_idp.entity_id
    changed = AuditEvent.objects.get(action="idp.changed")
    assert changed.before is not None and changed.after is not None
    assert (changed.before["name_ja"], changed.after["name_ja"]) == (
        "まなび市 SAML",
        "まなび市の SAML",
    )

    check = client.post(f"{base}/{idp.pk}/check", follow=True)
    assert check.status_code == HTTPStatus.OK
    body = check.content.decode()
    assert 'data-ok="true"' in body
    assert "メタデータを取得しました（前回と同じです）。" in body
    assert saml_idp.entity_id in body
