"""django-lti (a real tool library) registers itself through our Dynamic Registration and
launches.

The tool (``tests/interop/django_lti_tool/``) runs as its own Django server process with its own
database and keys, built as django-lti and django-lti-dynamic-registration document it; the
portal is the live server. The tool fetches our OpenID configuration with the registration
token, posts its client metadata to ``/lti/register``, stores the client_id we answer, and
after the board approves and deploys it, validates a student's launch (signature, nonce,
state, deployment) with pylti1p3 underneath.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from lti_platform.dynamic_registration import start_dynamic_registration
from roster.demo import DEMO_PASSWORD
from roster.models import Org, OrgType, User
from tests.interop.django_lti_tool import process
from tests.interop.test_pylti1p3_launch import tile_url
from tests.ltiflow import Browser, forms
from tools_registry.models import Deployment, Placement, Registration, RegistrationStatus
from tools_registry.services import default_deployment_id


@pytest.fixture
def django_lti_tool(tmp_path: Path) -> Iterator[str]:
    """The django-lti tool, served by ``runserver`` on a free loopback port."""
    with process.serve(tmp_path) as base:
        yield base


def _with_param(url: str, **params: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), *params.items()])))


def test_a_django_lti_tool_registers_is_deployed_and_launches(
    platform: str, django_lti_tool: str
) -> None:
    started = start_dynamic_registration(acting_user=None, tool_url=django_lti_tool + "/register/")

    # The browser opens the tool's registration page; the tool registers itself.
    page = requests.get(started.url, timeout=30)
    assert page.status_code == HTTPStatus.OK, page.text
    assert "org.imsglobal.lti.close" in page.text
    registration = Registration.objects.get(tool__name=process.TOOL_NAME)
    assert (registration.status, registration.is_active) == (RegistrationStatus.PENDING, False)
    assert registration.jwks_url == django_lti_tool + "/jwks/"
    assert registration.redirect_uris == [django_lti_tool + "/launch/"]
    assert registration.initiate_login_uri.startswith(django_lti_tool + "/init/")

    # The board approves it and deploys it to the board; the school places it.
    board = Org.objects.get(type=OrgType.DISTRICT, identifier="132993")
    Registration.objects.filter(pk=registration.pk).update(
        status=RegistrationStatus.APPROVED, is_active=True, privacy_level="name"
    )
    deployment = Deployment.objects.create(
        registration=registration, org=board, deployment_id=default_deployment_id(board)
    )
    Placement.objects.create(
        deployment=deployment,
        school=Org.objects.get(identifier="B113210000010"),
        title="django-lti ドリル",
    )

    # A student launches it: pylti1p3 inside django-lti validates the id_token.
    student = User.objects.get(username="sakura-5-2-01")
    browser = Browser(platform)
    browser.sign_in(student.username, DEMO_PASSWORD)
    login = browser.session.get(browser.url(tile_url(browser, "other")), timeout=10)
    assert login.url.startswith(django_lti_tool + "/init/")  # the tool's initiate-login URL
    # The tool's cookie check page reloads itself with this parameter when cookies work.
    authorize = browser.session.get(_with_param(login.url, lti1p3_new_window="1"), timeout=10)
    assert authorize.status_code == HTTPStatus.OK, authorize.text
    [form] = forms(authorize.text)
    assert form.action == django_lti_tool + "/launch/"
    launched = browser.session.post(form.action, data=form.fields, timeout=10)
    assert launched.status_code == HTTPStatus.OK, launched.text
    assert json.loads(launched.text) == {
        "deployment_id": "B_132993",
        "client_id": registration.client_id,
        "sub": str(student.eportal_uuid),
        "message_type": "LtiResourceLinkRequest",
        "name": student.full_name,
        "context_title": "5年2組",
        "ags": True,
        "nrps": True,
    }
