"""The provider's pure rules: claims by scope and privacy, pairwise subjects, redirect URIs."""

from __future__ import annotations

import uuid

import pytest

from oidc_clients.protocol import claims, redirects

PERSON = claims.Person(
    family_name="佐藤",
    given_name="陽翔",
    kana_family_name="さとう",
    kana_given_name="はると",
    email="haruto@example.jp",
    email_verified=True,
)
ROSTER = claims.Roster(
    board=claims.Org(id="b", name="まなび市教育委員会", code="132993"),
    school=claims.Org(id="s", name="さくら小学校", code=""),
    grade="P1",
    role="student",
)
ROSTER_CLAIM = {
    "board": {"id": "b", "name": "まなび市教育委員会", "code": "132993"},
    "school": {"id": "s", "name": "さくら小学校"},
    "grade": "P1",
    "role": "student",
}
ALL = claims.Privacy(share_name=True, share_email=True)


def test_nothing_personal_without_its_scope_even_when_the_level_allows() -> None:
    assert claims.user_claims(
        subject="x", person=PERSON, roster=ROSTER, scopes={"openid"}, privacy=ALL
    ) == {"sub": "x", claims.ROSTER_CLAIM: ROSTER_CLAIM}


def test_nothing_personal_beyond_the_level_even_when_the_scope_asks() -> None:
    none = claims.Privacy(share_name=False, share_email=False)
    scopes = {"openid", "profile", "email"}
    assert claims.user_claims(
        subject="x", person=PERSON, roster=ROSTER, scopes=scopes, privacy=none
    ) == {"sub": "x", claims.ROSTER_CLAIM: ROSTER_CLAIM}
    names = claims.Privacy(share_name=True, share_email=False)
    assert "email" not in claims.user_claims(
        subject="x", person=PERSON, roster=ROSTER, scopes=scopes, privacy=names
    )


def test_empty_names_are_left_out_and_staff_of_the_board_have_no_school() -> None:
    person = claims.Person("佐藤", "", "", "", "", email_verified=False)
    roster = claims.Roster(board=ROSTER.board, school=None, grade="", role="districtAdministrator")
    assert claims.user_claims(
        subject="x",
        person=person,
        roster=roster,
        scopes={"openid", "profile", "email"},
        privacy=ALL,
    ) == {
        "sub": "x",
        "name": "佐藤",
        "family_name": "佐藤",
        claims.ROSTER_CLAIM: {
            "board": {"id": "b", "name": "まなび市教育委員会", "code": "132993"},
            "role": "districtAdministrator",
        },
    }


def test_pairwise_subjects_are_stable_per_salt_and_differ_between_salts() -> None:
    person = "0b6f3c9e-4c1d-4e4e-9a55-0d2f0c7e1a11"
    first = claims.pairwise_subject(b"a" * 32, person)
    assert first == claims.pairwise_subject(b"a" * 32, person)
    assert first != claims.pairwise_subject(b"b" * 32, person)
    assert first != claims.pairwise_subject(b"a" * 32, "another")
    parsed = uuid.UUID(first)
    assert parsed.variant == uuid.RFC_4122 and first[14] == "8"  # version 8


@pytest.mark.parametrize(
    "uri",
    [
        "https://tool.example.jp/cb",
        "https://tool.example.jp:8443/oidc/cb?tenant=1",
        "http://localhost:3000/cb",
        "http://127.0.0.1:8765/callback",
        "http://[::1]/cb",
    ],
)
def test_redirect_uris_that_may_be_registered(uri: str) -> None:
    assert redirects.check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "empty"),
        ("http://tool.example.jp/cb", "not_https"),
        ("http://localhost.evil.example/cb", "not_https"),
        ("https://tool.example.jp/cb#x", "fragment"),
        ("https://user:pw@tool.example.jp/cb", "userinfo"),
        ("https://tool.example.jp/c b", "whitespace"),
        ("https://tool.example.jp/\x00", "whitespace"),
        ("javascript:alert(1)", "not_absolute"),
        ("/cb", "not_absolute"),
        ("https://[::1/cb", "unparsable"),
        ("https://tool.example.jp:99999/cb", "unparsable"),
        ("https://tool.example.jp/" + "a" * 2000, "too_long"),
    ],
)
def test_redirect_uris_that_may_not(uri: str, reason: str) -> None:
    with pytest.raises(redirects.InvalidRedirectUri) as caught:
        redirects.check_redirect_uri(uri)
    assert str(caught.value) == reason


def test_the_list_drops_duplicates_and_has_bounds() -> None:
    assert redirects.check_redirect_uris(["https://a.jp/cb", "https://a.jp/cb"]) == [
        "https://a.jp/cb"
    ]
    with pytest.raises(redirects.InvalidRedirectUri, match="too_many"):
        redirects.check_redirect_uris(f"https://a.jp/{n}" for n in range(11))
    with pytest.raises(redirects.InvalidRedirectUri, match="empty"):
        redirects.check_redirect_uris([])


def test_registered_means_exactly_equal() -> None:
    registered = ["https://a.jp/cb"]
    assert redirects.is_registered("https://a.jp/cb", registered)
    for near in ("https://a.jp/cb/", "https://A.jp/cb", "https://a.jp/cb?x=1", "https://a.jp/c"):
        assert not redirects.is_registered(near, registered)
