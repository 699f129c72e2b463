"""A pylti1p3 tool changes its key, registers again through Dynamic Registration, and keeps
working: the same client_id, launches that validate, service tokens signed with the new key.

The demo drill (pylti1p3, served by the live server) was registered with a static public key.
It rotates its key: its service token requests are refused until it registers again, this time
naming its JWKS URL, with a registration token started for it; the registration is updated in
place (no second tool), stays approved, and the tool's next token request and launch work.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

from demo_tools import config
from lti_platform.dynamic_registration import start_dynamic_registration
from lti_platform.protocol import constants as c
from lti_platform.protocol import jose
from tests.interop.test_pylti1p3_services import connector, launch_claims
from tools_registry.models import Registration, RegistrationStatus, Tool

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCORE = c.SCOPE_SCORE


def _token(service: ServiceConnector) -> str:
    return str(service.get_access_token([SCORE]))


def _metadata(registration: Registration, platform: str) -> dict[str, Any]:
    """What the drill sends when it registers: its URLs as they are, its JWKS URL."""
    host = urlsplit(platform).hostname
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": registration.initiate_login_uri,
        "redirect_uris": list(registration.redirect_uris),
        "client_name": registration.tool.name,
        "jwks_uri": f"{platform}/tools/drill/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join((*c.AGS_SCOPES, c.SCOPE_NRPS)),
        TOOL_CONFIG: {
            "domain": host,
            "target_link_uri": registration.target_link_uri,
            "claims": ["iss", "sub", "name", "given_name", "family_name"],
            "messages": [{"type": "LtiResourceLinkRequest"}],
        },
    }


def test_the_drill_rotates_its_key_registers_again_and_keeps_launching(platform: str) -> None:
    # Registered by hand with a static public key only (as vendors' parameter sheets often do).
    Registration.objects.filter(tool__slug="demo-drill").update(jwks_url="")
    registration = Registration.objects.select_related("tool").get(tool__slug="demo-drill")
    client_id = registration.client_id
    assert registration.public_key_pem
    assert _token(connector(platform))  # the old key works

    # The tool rotates its key (its JWKS URL serves the new one at once): refused now.
    key_file = config.key_dir() / "drill.pem"
    key_file.write_bytes(jose.private_key_to_pem(jose.generate_private_key()))
    with pytest.raises(LtiServiceException):
        _token(connector(platform))

    # An operator starts a registration for this tool; the tool posts its metadata.
    started = start_dynamic_registration(
        acting_user=None, tool_url=f"{platform}/tools/drill/register", tool=registration.tool
    )
    secret = parse_qs(urlsplit(started.url).query)["registration_token"][0]
    response = requests.post(
        f"{platform}/lti/register",
        json=_metadata(registration, platform),
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    assert response.status_code == HTTPStatus.CREATED, response.text
    assert response.json()["client_id"] == client_id
    assert Tool.objects.filter(slug="demo-drill").count() == 1
    registration.refresh_from_db()
    assert (registration.status, registration.is_active) == (RegistrationStatus.APPROVED, True)
    assert registration.jwks_url == f"{platform}/tools/drill/jwks"

    # The new key signs its service token requests; launches validate as before.
    assert _token(connector(platform))
    claims = launch_claims(platform, "sakura-5-2-01", "drill")
    assert claims["aud"] == client_id
