"""pylti1p3 (a real tool library) validates real launches from our endpoints over HTTP.

The demo tools are pylti1p3 tools: the drill and the CBT test fetch our JWKS URL, the textbook
has a static copy of our public keys. Every launch below is validated by pylti1p3 (signature,
kid, nonce, state, deployment, message claims) before the tool page is shown.
"""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus
from typing import Any

import jwt
import pytest
import requests

from lti_platform.keys import rotate_keys
from lti_platform.protocol import constants as c
from roster.demo import DEMO_PASSWORD
from roster.models import Enrollment, User
from tests.ltiflow import Browser, forms


def tile_url(browser: Browser, kind: str, class_code: str | None = None) -> str:
    home = browser.session.get(browser.url("/"), timeout=10)
    assert home.status_code == HTTPStatus.OK
    testid = f"tile-{kind}" + (f"-{class_code}" if class_code else "")
    match = re.search(
        rf'href="([^"]+)"\s+target="_blank" rel="noopener" data-testid="{testid}"', home.text
    )
    assert match, f"no {testid} tile on the home page"
    return match.group(1)


def launch(
    browser: Browser, kind: str, class_code: str | None = None
) -> tuple[dict[str, Any], requests.Response]:
    """Tap a tile: follow to the auth response, decode it, then post it to the tool."""
    response = browser.session.get(browser.url(tile_url(browser, kind, class_code)), timeout=10)
    assert response.status_code == HTTPStatus.OK, response.text
    [form] = forms(response.text)
    assert set(form.fields) == {"id_token", "state"}
    header = jwt.get_unverified_header(form.fields["id_token"])
    keys = requests.get(browser.url("/lti/jwks"), timeout=10).json()["keys"]
    [jwk] = [k for k in keys if k["kid"] == header["kid"]]
    claims = jwt.decode(
        form.fields["id_token"],
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=claims_aud(form.fields["id_token"]),
        issuer=browser.base_url,
    )
    tool_page = browser.session.post(form.action, data=form.fields, timeout=10)
    return claims, tool_page


def claims_aud(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["aud"])


def text_of(page: requests.Response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', page.text)
    assert match, f"{testid} not shown by the tool: {page.text[:2000]}"
    return match.group(1)


CASES = [
    # username, tile, class code on staff home, expected class, grade, context role, name shown
    ("sakura-5-2-01", "drill", None, "5年2組", "P5", "Learner", True),
    ("sakura-1-1-01", "textbook", None, "1年1組", "P1", "Learner", False),
    ("midori-1-a-01", "cbt", None, "1年A組", "J1", "Learner", False),
    ("sakura-t-kato", "textbook", "5-2", "5年2組", "P5", "Instructor", False),
    ("midori-t-suzuki", "drill", "1-A", "1年A組", "J1", "Instructor", True),
]


@pytest.mark.parametrize(
    ("username", "kind", "class_code", "class_title", "grade", "role", "named"), CASES
)
def test_pylti1p3_validates_launch(
    platform: str,
    username: str,
    kind: str,
    class_code: str | None,
    class_title: str,
    grade: str,
    role: str,
    named: bool,
) -> None:
    user = User.objects.get(username=username)
    browser = Browser(platform)
    browser.sign_in(username, DEMO_PASSWORD)
    claims, page = launch(browser, kind, class_code)

    assert page.status_code == HTTPStatus.OK, page.text
    assert text_of(page, "class") == class_title
    assert text_of(page, "grade") == grade
    assert text_of(page, "role") == {"Learner": "児童生徒", "Instructor": "先生"}[role]
    if named:
        assert text_of(page, "name") == user.full_name
    else:
        assert 'data-testid="name"' not in page.text

    # The claims Japanese tools check.
    assert uuid.UUID(claims["sub"]).version == 4 and claims["sub"] == str(user.eportal_uuid)
    platform_claim = claims[c.CLAIM_TOOL_PLATFORM]
    assert uuid.UUID(platform_claim["guid"]).version == 4
    assert claims[c.CLAIM_CONTEXT]["id"] and claims[c.CLAIM_CONTEXT]["title"] == class_title
    assert claims[c.CLAIM_CUSTOM]["grade"] == grade
    assert claims[c.CLAIM_VERSION] == "1.3.0"
    assert claims[c.CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[c.CLAIM_RESOURCE_LINK]["id"]
    assert f"http://purl.imsglobal.org/vocab/lis/v2/membership#{role}" in claims[c.CLAIM_ROLES]
    assert claims["exp"] - claims["iat"] >= 300
    assert ("name" in claims) is named and "email" not in claims
    enrollment = Enrollment.objects.get(user=user, school_class__title=class_title)
    assert claims[c.CLAIM_LIS] == {
        "person_sourcedid": str(user.sourced_id),
        "course_section_sourcedid": str(enrollment.school_class.sourced_id),
    }


def test_custom_parameters_are_substituted(platform: str) -> None:
    browser = Browser(platform)
    browser.sign_in("sakura-5-2-01", DEMO_PASSWORD)
    claims, page = launch(browser, "drill")
    assert page.status_code == HTTPStatus.OK
    user = User.objects.get(username="sakura-5-2-01")
    assert claims[c.CLAIM_CUSTOM] == {
        "grade": "P5",
        "user_id": str(user.eportal_uuid),
        "class_name": "5年2組",
        "role": "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    }
    assert claims[c.CLAIM_LAUNCH_PRESENTATION] == {
        "document_target": "window",
        "return_url": platform + "/",
        "locale": "ja-JP",
    }


def test_launches_keep_validating_across_key_rotation(platform: str) -> None:
    browser = Browser(platform)
    browser.sign_in("sakura-5-2-01", DEMO_PASSWORD)
    before, page = launch(browser, "drill")  # the drill caches our JWKS (active + next)
    assert page.status_code == HTTPStatus.OK
    kid_before = jwt.get_unverified_header(_token(page))["kid"]

    result = rotate_keys(force=True)
    after, page = launch(browser, "drill")
    assert page.status_code == HTTPStatus.OK, page.text  # cached JWKS already had the new key
    kid_after = jwt.get_unverified_header(_token(page))["kid"]
    assert (kid_before, kid_after) == (result.retired, result.activated)

    # The static-key tool was configured before the rotation: it knows the next key too.
    _claims, page = launch(browser, "textbook")
    assert page.status_code == HTTPStatus.OK, page.text

    published = {k["kid"] for k in requests.get(platform + "/lti/jwks", timeout=10).json()["keys"]}
    assert {result.retired, result.activated, result.published_next} <= published
    assert before["sub"] == after["sub"]


def _token(page: requests.Response) -> str:
    body = page.request.body
    assert isinstance(body, str)
    match = re.search(r"id_token=([^&]+)", body)
    assert match
    return match.group(1)


def test_tool_rejects_a_token_signed_by_an_unpublished_key(platform: str) -> None:
    """Negative control: the tool really checks signatures against our JWKS."""
    from lti_platform.protocol import jose

    browser = Browser(platform)
    browser.sign_in("sakura-5-2-01", DEMO_PASSWORD)
    response = browser.session.get(browser.url(tile_url(browser, "drill")), timeout=10)
    [form] = forms(response.text)
    claims = jwt.decode(form.fields["id_token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(form.fields["id_token"])["kid"]
    forged = jose.SigningKey(kid=kid, private_key=jose.generate_private_key()).sign(claims)
    page = browser.session.post(form.action, data={**form.fields, "id_token": forged}, timeout=10)
    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert "Signature verification failed" in page.text


def test_jwks_endpoint(platform: str) -> None:
    response = requests.get(platform + "/lti/jwks", timeout=10)
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert len(keys) == 2  # the signing key and the published next key
    from lti_platform.protocol.jose import thumbprint

    for key in keys:
        assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}
        assert key["kid"] == thumbprint(key) and key["alg"] == "RS256" and key["use"] == "sig"


def test_message_hint_is_single_use_under_concurrent_requests(platform: str) -> None:
    """The same authentication request raced from 8 connections yields exactly one id_token."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import parse_qsl

    browser = Browser(platform)
    browser.sign_in("sakura-5-2-01", DEMO_PASSWORD)
    start = browser.session.get(
        browser.url(tile_url(browser, "drill")), allow_redirects=False, timeout=10
    )
    login = dict(parse_qsl(start.headers["Location"].split("?", 1)[1]))
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": platform + "/tools/drill/launch",
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "nonce": "race",
        "state": "race",
    }
    cookies = browser.session.cookies.get_dict()

    def attempt(_: int) -> str:
        response = requests.get(
            platform + "/lti/authorize", params=params, cookies=cookies, timeout=10
        )
        [form] = forms(response.text)
        return "id_token" if "id_token" in form.fields else form.fields["error_description"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = sorted(pool.map(attempt, range(8)))
    assert outcomes == ["id_token"] + ["lti_message_hint has already been used"] * 7


def test_demo_cbt_posts_its_score_through_ags(platform: str) -> None:
    """The CBT tool (pylti1p3) creates its line item and posts the student's score."""
    from lti_platform.models import LineItem, Score

    browser = Browser(platform)
    browser.sign_in("midori-1-a-01", DEMO_PASSWORD)
    _claims, page = launch(browser, "cbt")
    [form] = [f for f in forms(page.text) if f.action.endswith("/finish")]
    answers = {"q1": "東京", "q2": "7日", "q3": "50度"}  # two of three right
    finished = browser.session.post(
        browser.url(form.action),
        data={**form.fields, **answers},
        headers={"Referer": page.url},
        timeout=30,
    )
    assert finished.status_code == HTTPStatus.OK, finished.text
    assert text_of(finished, "sent-score") == "2 / 3 てん"
    score = Score.objects.select_related("line_item", "user").get()
    assert (score.user.username, score.score_given, score.score_maximum) == ("midori-1-a-01", 2, 3)
    assert score.line_item.label == "CBTテスト（練習）"
    assert LineItem.objects.count() == 1


def test_demo_drill_shows_the_class_list_to_the_teacher_through_nrps(platform: str) -> None:
    browser = Browser(platform)
    browser.sign_in("sakura-t-kato", DEMO_PASSWORD)
    _claims, page = launch(browser, "drill", "5-2")
    assert page.status_code == HTTPStatus.OK
    assert text_of(page, "member-count") == "6人"
    for student in User.objects.filter(home_class__class_code="5-2"):
        assert student.full_name in page.text
