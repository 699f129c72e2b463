"""Production transport: deploy checks, https settings from the environment, the strict CSP,
``Cache-Control: no-store`` on personal responses, and authentication requests POSTed from
the tool's site (README "Production", docs/security.md).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from cryptography.fernet import Fernet
from django.test import Client

from lti_platform.models import LineItem
from lti_platform.views import SAME_SITE_REPOST
from portal.templatetags import portal_tiles
from roster.models import User
from tests.lti_platform.service_helpers import (
    ags_url,
    bearer,
    demo_roster,
    deployment,
    get_token,
    nrps_url,
    register_tool,
    school_class,
)
from tests.ltiflow import forms
from tests.serving import REPO_ROOT
from tools_registry.models import Placement, Registration

NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
CHECK_TIMEOUT = 120  # seconds for one `manage.py` in a subprocess on a loaded machine


# --- check --deploy and the settings an environment gives -------------------------------------


def manage(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` with config.settings.base and only the given MANABI_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MANABI_")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.base", MANABI_DATA_DIR=str(tmp_path))
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own fixed command line
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT,
        check=False,
    )


def production(**extra: str) -> dict[str, str]:
    """The production configuration of README "Production"."""
    return {
        "MANABI_LTI_ISSUER": "https://portal.example.jp",
        "MANABI_ALLOWED_HOSTS": "portal.example.jp",
        "MANABI_SECRET_KEY": secrets.token_urlsafe(50),
        "MANABI_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "MANABI_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "MANABI_HSTS_INCLUDE_SUBDOMAINS": "1",
        "MANABI_HSTS_PRELOAD": "1",
        **extra,
    }


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production())
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "System check identified no issues (0 silenced).\n"


def test_an_https_issuer_alone_leaves_only_the_hsts_opt_ins(tmp_path: Path) -> None:
    env = production()
    del env["MANABI_HSTS_INCLUDE_SUBDOMAINS"], env["MANABI_HSTS_PRELOAD"]
    result = manage(["check", "--deploy"], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert re.findall(r"\((security\.\w+)\)", result.stderr) == [
        "security.W005",
        "security.W021",
    ]


SHOW = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE,"
    " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
    " s.SECURE_HSTS_PRELOAD, getattr(s, 'SECURE_PROXY_SSL_HEADER', None),"
    " s.CONTENT_SECURITY_POLICY['DIRECTIVES']['upgrade-insecure-requests'])"
)


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        (
            {"MANABI_LTI_ISSUER": "http://127.0.0.1:8000"},
            "False False False 0 False False None False",
        ),
        (
            {"MANABI_LTI_ISSUER": "https://portal.example.jp"},
            "True True True 31536000 False False None True",
        ),
        (
            production(MANABI_HSTS_SECONDS="600"),
            "True True True 600 True True ('HTTP_X_FORWARDED_PROTO', 'https') True",
        ),
        (
            {
                "MANABI_LTI_ISSUER": "https://portal.example.jp",
                "MANABI_SSL_REDIRECT": "0",
                "MANABI_SECURE_COOKIES": "0",
                "MANABI_HSTS_SECONDS": "0",
            },
            "False False False 0 False False None True",
        ),
    ],
    ids=["http-demo", "https-issuer", "production", "https-switched-off"],
)
def test_transport_settings_follow_the_issuer_and_the_environment(
    tmp_path: Path, env: dict[str, str], shown: str
) -> None:
    result = manage(["shell", "--no-imports", "-c", SHOW], tmp_path, **env)
    assert (result.returncode, result.stdout, result.stderr) == (0, shown + "\n", "")


def test_a_flag_that_is_not_0_or_1_stops_the_start(tmp_path: Path) -> None:
    result = manage(["check"], tmp_path, MANABI_SSL_REDIRECT="yes")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: MANABI_SSL_REDIRECT must be 0 or 1, not 'yes'"
    )


@pytest.mark.django_db
def test_behind_the_proxy_https_gets_hsts_and_http_is_redirected(settings: Any) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    client = Client()
    plain = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})
    assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert plain["Location"] == "https://testserver/accounts/login/"
    assert "Strict-Transport-Security" not in plain
    secure = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == HTTPStatus.OK
    assert secure["Strict-Transport-Security"] == "max-age=31536000"


# --- Content-Security-Policy ------------------------------------------------------------------


def directives(response: Any) -> dict[str, str]:
    """The response's Content-Security-Policy as {directive: sources}."""
    parts = (p.strip().split(" ", 1) for p in response["Content-Security-Policy"].split(";"))
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def strict(*, nonce: str | None, form_action: str | None = "'self'") -> dict[str, str]:
    with_nonce = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    policy = {
        "default-src": "'self'",
        "script-src": with_nonce,
        "style-src": with_nonce,
        "connect-src": "'self'",
        "img-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": form_action,
        "frame-ancestors": "'none'",
    }
    return {k: v for k, v in policy.items() if v is not None}


def page_nonce(response: Any) -> str | None:
    found = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    return found.group(1) if found else None


def assert_nothing_inline_without_the_nonce(html: str, nonce: str | None) -> None:
    """No style="" and no on*= attribute; every <style> and inline <script> has the nonce."""
    assert not re.search(r"\sstyle\s*=", html), html
    assert not re.search(r"\son[a-z]+\s*=", html), html
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        assert 'src="' in tag or f'nonce="{nonce}"' in tag, tag


@pytest.fixture
def roster(db: None) -> dict[str, User]:
    return demo_roster()


@pytest.fixture
def tool(roster: dict[str, User]) -> Registration:
    """A tool on another site (https://test-tool.example), placed for 5年2組."""
    return register_tool("test-tool")


def test_the_student_home_is_strict_with_a_nonced_tile_style(
    client: Client, roster: dict[str, User], tool: Registration
) -> None:
    tool.tool.color = "#E8710A"
    tool.tool.save()
    client.force_login(roster["sakura-5-2-01"])
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    nonce = page_nonce(response)
    assert nonce is not None and len(nonce) >= 22
    assert directives(response) == strict(nonce=nonce)
    html = response.content.decode()
    assert (
        f'<style nonce="{nonce}">.tile-c-e8710a{{--tile-color:#e8710a;--tile-ink:#1d2733}}</style>'
        in html
    )
    assert '<a class="tile tile-c-e8710a"' in html
    assert_nothing_inline_without_the_nonce(html, nonce)
    assert page_nonce(client.get("/")) != nonce  # one per response


def test_a_colour_that_is_not_rrggbb_adds_no_css(
    client: Client, roster: dict[str, User], tool: Registration
) -> None:
    tool.tool.color = "red;background:url(https://evil.example/x)"
    tool.tool.save()
    client.force_login(roster["sakura-t-kato"])
    response = client.get("/")
    html = response.content.decode()
    nonce = page_nonce(response)
    assert f'<style nonce="{nonce}"></style>' in html
    assert "evil.example" not in html
    assert '<a class="tile "' in html
    assert_nothing_inline_without_the_nonce(html, nonce)


def test_pages_without_inline_code_get_the_policy_without_a_nonce(
    client: Client, roster: dict[str, User]
) -> None:
    response = client.get("/accounts/login/")
    assert directives(response) == strict(nonce=None)
    assert_nothing_inline_without_the_nonce(response.content.decode(), None)


def launch_params(client: Client, user: User, registration: Registration) -> dict[str, str]:
    """Start a launch as ``user`` and build the tool's authentication request."""
    placement = Placement.objects.get(deployment__registration=registration)
    klass = school_class("5-2")
    started = client.get(f"/lti/launch/{placement.resource_link_id}/{klass.sourced_id}")
    assert started.status_code == HTTPStatus.FOUND
    login = dict(parse_qsl(urlsplit(started["Location"]).query))
    return {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": registration.redirect_uris[0],
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "nonce": "n-cross-site",
        "state": "st-cross-site",
    }


def test_the_launch_form_to_another_origin_has_no_form_action(
    client: Client, roster: dict[str, User], tool: Registration
) -> None:
    """Chromium would refuse the tool's own redirects to its other origins (rendering.py)."""
    client.force_login(roster["sakura-5-2-01"])
    response = client.get("/lti/authorize", launch_params(client, roster["sakura-5-2-01"], tool))
    assert response.status_code == HTTPStatus.OK
    nonce = page_nonce(response)
    assert directives(response) == strict(nonce=nonce, form_action=None)
    [form] = forms(response.content.decode())
    assert (form.action, form.method, set(form.fields)) == (
        "https://test-tool.example/launch",
        "post",
        {"id_token", "state"},
    )
    html = response.content.decode()
    assert f'<script nonce="{nonce}">document.forms[0].submit();</script>' in html
    assert_nothing_inline_without_the_nonce(html, nonce)


# --- POST authentication requests from the tool's site ----------------------------------------


def test_a_post_without_the_session_cookie_is_re_posted_to_ourselves(
    client: Client, roster: dict[str, User], tool: Registration
) -> None:
    client.force_login(roster["sakura-5-2-01"])
    params = launch_params(client, roster["sakura-5-2-01"], tool)
    cross_site = Client()  # the browser sends no SameSite=Lax cookie with the tool's POST

    response = cross_site.post("/lti/authorize", params)

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == NEVER_CACHE
    assert directives(response) == strict(nonce=page_nonce(response))
    [form] = forms(response.content.decode())
    assert (form.action, form.method) == ("/lti/authorize", "post")
    assert form.fields == {**params, SAME_SITE_REPOST: "1"}

    # The re-post is same-site, so it carries the cookie: the launch goes on.
    launched = client.post(form.action, form.fields)
    [id_token_form] = forms(launched.content.decode())
    assert id_token_form.action == "https://test-tool.example/launch"
    claims = jwt.decode(id_token_form.fields["id_token"], options={"verify_signature": False})
    assert (claims["nonce"], id_token_form.fields["state"]) == ("n-cross-site", "st-cross-site")


def test_a_re_post_without_a_session_answers_login_required_once(
    client: Client, roster: dict[str, User], tool: Registration
) -> None:
    client.force_login(roster["sakura-5-2-01"])
    params = launch_params(client, roster["sakura-5-2-01"], tool)

    response = Client().post("/lti/authorize", {**params, SAME_SITE_REPOST: "1"})

    [form] = forms(response.content.decode())
    assert form.action == "https://test-tool.example/launch"
    assert form.fields == {
        "error": "login_required",
        "error_description": "the user is not signed in to the platform",
        "state": "st-cross-site",
    }


# --- Cache-Control ----------------------------------------------------------------------------


def test_every_personal_page_says_no_store(client: Client, roster: dict[str, User]) -> None:
    klass = school_class("5-2")
    student = roster["sakura-5-2-01"]
    client.force_login(student)
    for path in ("/", "/my/scores"):
        response = client.get(path)
        assert (path, response.status_code, response["Cache-Control"]) == (path, 200, "no-store")
    client.force_login(roster["sakura-t-kato"])
    for path in (
        "/",
        f"/classes/{klass.sourced_id}/gradebook",
        f"/classes/{klass.sourced_id}/gradebook/students/{student.eportal_uuid}",
    ):
        response = client.get(path)
        assert (path, response.status_code, response["Cache-Control"]) == (path, 200, "no-store")


def test_the_services_say_no_store_and_the_jwks_is_public(
    client: Client, tool: Registration
) -> None:
    token = get_token(client, tool)
    dep, klass = deployment(tool), school_class("5-2")
    item = LineItem.objects.create(
        deployment=dep, school_class=klass, label="たしざん", score_maximum=10
    )
    for path in (
        nrps_url(dep, klass),
        ags_url(dep, klass),
        ags_url(dep, klass, f"/{item.pk}"),
        ags_url(dep, klass, f"/{item.pk}/results"),
        ags_url(dep, klass, "/999999"),  # an error answer too
    ):
        response = client.get(path, headers=bearer(token))
        assert (path, response["Cache-Control"]) == (path, "no-store")
    unauthenticated = client.get(nrps_url(dep, klass))
    assert (unauthenticated.status_code, unauthenticated["Cache-Control"]) == (401, "no-store")

    jwks = client.get("/lti/jwks")
    assert (jwks.status_code, jwks["Cache-Control"]) == (200, "public, max-age=300")


def test_anonymous_pages_and_static_files_are_not_marked(client: Client, db: None) -> None:
    assert "Cache-Control" not in client.get("/accounts/password/reset/")
    assert client.get("/accounts/login/")["Cache-Control"] == NEVER_CACHE  # allauth's own
    static = client.get("/static/manabi.css")
    assert static.status_code == HTTPStatus.OK
    assert "no-store" not in static.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("color", "ink"),
    [("#e8710a", "#1d2733"), ("#2f6fde", "#fff"), ("#ffd400", "#1d2733"), ("#1b5e20", "#fff")],
)
def test_a_tiles_text_is_the_colour_that_contrasts_with_it(color: str, ink: str) -> None:
    """White on a vendor's orange fails WCAG's 4.5:1 (axe-core, e2e/test_accessibility.py)."""
    assert portal_tiles.tile_ink(color[1:]) == ink
