"""pylti1p3 (a real tool library) answers our deep-linking requests over HTTP.

A teacher signs in, opens the class page and starts "assign from a tool"; the test plays the
tool's side with pylti1p3: it validates the LtiDeepLinkingRequest (DeepLinkMessageValidator,
after checking the id_token against our JWKS) and builds and signs the LtiDeepLinkingResponse
with ``pylti1p3.deep_link.DeepLink``, which the browser posts to ``deep_link_return_url``.
"""

from __future__ import annotations

import datetime
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem as ToolLineItem
from pylti1p3.message_validators.deep_link import DeepLinkMessageValidator
from pylti1p3.registration import Registration as ToolRegistration

from assignments.models import Assignment
from lti_platform.models import LineItem
from lti_platform.protocol import constants as c
from lti_platform.protocol import jose
from roster.demo import DEMO_PASSWORD
from roster.models import SchoolClass, User
from tests.ltiflow import Browser, forms
from tools_registry.models import Deployment, Placement, Registration, Tool, ToolKind

TOOL_KEY = jose.generate_private_key()
TOOL_PEM = jose.private_key_to_pem(TOOL_KEY).decode()
TEACHER = "sakura-t-kato"


def _register_tool(platform: str, school_class: SchoolClass) -> Registration:
    tool = Tool.objects.create(slug="interop-dl", name="教材配信テスト", kind=ToolKind.OTHER)
    public_pem = (
        TOOL_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    registration = Registration.objects.create(
        tool=tool,
        initiate_login_uri="https://interop-dl.example/login",
        redirect_uris=["https://interop-dl.example/launch"],
        target_link_uri="https://interop-dl.example/launch",
        deep_linking_url="https://interop-dl.example/deep-link",
        public_key_pem=public_pem,
        allowed_services=["ags"],
        platform_storage=True,  # offered the iframe target too
    )
    deployment = Deployment.objects.create(
        registration=registration, deployment_id="dl-interop-1", org=school_class.school
    )
    Placement.objects.create(
        deployment=deployment,
        school=school_class.school,
        school_class=school_class,
        title="教材配信テスト",
    )
    return registration


def _start(browser: Browser, school_class: SchoolClass, query: str = "") -> dict[str, str]:
    page = browser.session.get(browser.url(f"/classes/{school_class.sourced_id}"), timeout=10)
    assert page.status_code == HTTPStatus.OK
    assert "ツールから課題を出す" in page.text
    match = re.search(
        r'href="([^"]+)"\s+target="_blank" rel="noopener" data-testid="assign-other"', page.text
    )
    assert match, page.text
    start = browser.session.get(
        browser.url(match.group(1) + query), allow_redirects=False, timeout=10
    )
    assert start.status_code == HTTPStatus.FOUND
    assert start.headers["Location"].startswith("https://interop-dl.example/login?")
    return dict(parse_qsl(urlsplit(start.headers["Location"]).query))


def _request(browser: Browser, registration: Registration, login: dict[str, str]) -> dict[str, Any]:
    """The tool's authentication request; the id_token checked as pylti1p3 checks it."""
    response = browser.session.get(
        browser.url("/lti/authorize"),
        params={
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": login["client_id"],
            "redirect_uri": registration.redirect_uris[0],
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": "interop-nonce",
            "state": "interop-state",
        },
        timeout=10,
    )
    [form] = forms(response.text)
    token = form.fields["id_token"]
    keys = requests.get(browser.url("/lti/jwks"), timeout=10).json()["keys"]
    [jwk] = [k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]]
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=registration.client_id,
        issuer=browser.base_url,
    )
    validator = DeepLinkMessageValidator()
    assert validator.can_validate(claims)
    assert validator.validate(claims) is True
    return claims


def _deep_link(browser: Browser, registration: Registration, claims: dict[str, Any]) -> DeepLink:
    tool_registration = (
        ToolRegistration()
        .set_issuer(browser.base_url)
        .set_client_id(registration.client_id)
        .set_tool_private_key(TOOL_PEM)
    )
    return DeepLink(
        tool_registration,
        claims[c.CLAIM_DEPLOYMENT_ID],
        claims[c.CLAIM_DEEP_LINKING_SETTINGS],
    )


def _teacher(platform: str) -> tuple[Browser, SchoolClass]:
    user = User.objects.get(username=TEACHER)
    school_class = SchoolClass.objects.get(enrollments__user=user, class_code="5-2")
    browser = Browser(platform)
    browser.sign_in(TEACHER, DEMO_PASSWORD)
    return browser, school_class


def test_pylti1p3_deep_links_every_item_type_at_once(platform: str) -> None:
    browser, school_class = _teacher(platform)
    registration = _register_tool(platform, school_class)
    claims = _request(browser, registration, _start(browser, school_class))
    settings_claim = claims[c.CLAIM_DEEP_LINKING_SETTINGS]
    assert settings_claim["accept_multiple"] is True
    assert settings_claim["deep_link_return_url"] == platform + "/lti/deep-linking/return"

    unit = (
        DeepLinkResource()
        .set_type("ltiResourceLink")
        .set_title("分数のたし算")
        .set_url("https://interop-dl.example/units/1")
        .set_custom_params({"unit": "1", "curriculum_codes": "8260213111000000"})
        .set_lineitem(ToolLineItem().set_score_maximum(10).set_label("分数").set_tag("unit-1"))
    )
    same_unit = (
        DeepLinkResource()
        .set_type("ltiResourceLink")
        .set_title("分数のたし算")
        .set_url("https://interop-dl.example/units/1")
    )
    link = (
        DeepLinkResource()
        .set_type("link")
        .set_title("NHK for School")
        .set_url("https://www.nhk.or.jp/school/")
    )
    file = (
        DeepLinkResource()
        .set_type("file")
        .set_title("プリント")
        .set_url("https://interop-dl.example/p.pdf")
    )
    image = (
        DeepLinkResource()
        .set_type("image")
        .set_title("図")
        .set_url("https://interop-dl.example/z.png")
    )
    html = DeepLinkResource().set_type("html").set_title("音読")
    deep_link = _deep_link(browser, registration, claims)
    message = deep_link.get_message_jwt([unit, same_unit, link, file, image, html])
    items = message[c.CLAIM_DL_CONTENT_ITEMS]
    assert isinstance(items, list)
    items[0]["available"] = {"startDateTime": "2026-04-01T08:00:00+09:00"}
    items[0]["submission"] = {"endDateTime": "2026-04-03T17:00:00+09:00"}
    items[1]["iframe"] = {"width": 800, "height": 600}
    items[5]["html"] = "<p>よみましょう</p>"
    message[c.CLAIM_DL_MSG] = "6件の教材を送りました"
    token = deep_link.encode_jwt(message)

    response = browser.session.post(
        settings_claim["deep_link_return_url"], data={"JWT": token}, timeout=10
    )
    assert response.status_code == HTTPStatus.OK, response.text
    assert "課題を6件追加しました" in response.text
    assert "ツールからのメッセージ: 6件の教材を送りました" in response.text

    rows = list(Assignment.objects.order_by("position"))
    assert [(a.item_type, a.title, a.target) for a in rows] == [
        ("ltiResourceLink", "分数のたし算", "window"),
        ("ltiResourceLink", "分数のたし算", "iframe"),
        ("link", "NHK for School", "window"),
        ("file", "プリント", "window"),
        ("image", "図", "window"),
        ("html", "音読", "window"),
    ]
    first = rows[0]
    jst = datetime.timezone(datetime.timedelta(hours=9))
    assert first.available_start == datetime.datetime(2026, 4, 1, 8, tzinfo=jst)
    assert first.submission_end == datetime.datetime(2026, 4, 3, 17, tzinfo=jst)
    assert first.curriculum_codes == ["8260213111000000"]
    assert rows[5].html == "<p>よみましょう</p>"
    [item] = LineItem.objects.filter(deployment__registration=registration)
    assert (item.assignment_id, item.label, item.score_maximum, item.tag) == (
        first.pk,
        "分数",
        10.0,
        "unit-1",
    )
    assert item.end_date_time == first.submission_end

    # The class page lists them; the same response again is refused (data is single-use).
    page = browser.session.get(browser.url(f"/classes/{school_class.sourced_id}"), timeout=10)
    assert page.text.count('data-testid="assignment-') == 6
    again = browser.session.post(
        settings_claim["deep_link_return_url"], data={"JWT": token}, timeout=10
    )
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "data has already been used" in again.text
    assert Assignment.objects.count() == 6


def test_pylti1p3_answers_a_single_item_request(platform: str) -> None:
    browser, school_class = _teacher(platform)
    registration = _register_tool(platform, school_class)
    claims = _request(browser, registration, _start(browser, school_class, "?multiple=0"))
    settings_claim = claims[c.CLAIM_DEEP_LINKING_SETTINGS]
    assert settings_claim["accept_multiple"] is False
    unit = (
        DeepLinkResource()
        .set_type("ltiResourceLink")
        .set_title("CBT 第1回")
        .set_url("https://interop-dl.example/tests/1")
        .set_lineitem(ToolLineItem().set_score_maximum(3).set_label("第1回"))
    )
    token = _deep_link(browser, registration, claims).get_response_jwt([unit])
    response = browser.session.post(
        settings_claim["deep_link_return_url"], data={"JWT": token}, timeout=10
    )
    assert response.status_code == HTTPStatus.OK, response.text
    assert "課題を1件追加しました" in response.text
    assignment = Assignment.objects.get()

    # The assignment launches like a placement, and its launch carries the AGS lineitem.
    launch = browser.session.get(
        browser.url(f"/lti/launch/{assignment.resource_link_id}/{school_class.sourced_id}"),
        allow_redirects=False,
        timeout=10,
    )
    login = dict(parse_qsl(urlsplit(launch.headers["Location"]).query))
    assert login["target_link_uri"] == "https://interop-dl.example/tests/1"
    authorized = browser.session.get(
        browser.url("/lti/authorize"),
        params={
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": login["client_id"],
            "redirect_uri": registration.redirect_uris[0],
            "login_hint": login["login_hint"],
            "lti_message_hint": login["lti_message_hint"],
            "nonce": "launch-nonce",
        },
        timeout=10,
    )
    [form] = forms(authorized.text)
    launched = jwt.decode(form.fields["id_token"], options={"verify_signature": False})
    line_item = LineItem.objects.get(assignment=assignment)
    assert launched[c.CLAIM_RESOURCE_LINK]["id"] == str(assignment.resource_link_id)
    assert launched[c.CLAIM_AGS_ENDPOINT]["lineitem"] == (
        f"{platform}/lti/ags/{line_item.deployment_id}/{school_class.sourced_id}"
        f"/lineitems/{line_item.pk}"
    )
