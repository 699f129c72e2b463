"""Helpers for the LTI Advantage service tests: test tools with static keys, client assertions,
tokens, and counting rows to prove that a refused request wrote nothing.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from events.models import Delivery, Event
from lti_platform.models import AccessToken, LineItem, OneTimeToken, Score, ScoreEvent
from lti_platform.protocol import constants as c
from roster.demo import create_demo_roster
from roster.models import SchoolClass, User
from tools_registry.models import Deployment, Registration
from tools_registry.services import register_tool_from_spec

TOKEN_URL = "http://testserver/lti/token"
ISSUER = "http://testserver"
FORM = "application/x-www-form-urlencoded"
ALL_SCOPES = (*c.AGS_SCOPES, c.SCOPE_NRPS)

SAKURA = "B113210000010"
MIDORI = "C113210000019"
DISTRICT = "132993"
DISTRICT_DEPLOYMENT = "B_132993"  # the standard model's id of the board's deployment


def demo_roster() -> dict[str, User]:
    """The demo roster of the ``demo_school`` fixture without the demo tools: no test here uses
    them, and making their keys is most of that fixture's time."""
    create_demo_roster()
    return {u.username: u for u in User.objects.all()}


@functools.cache
def private_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name for the whole test session (key generation is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def register_tool(
    slug: str,
    *,
    key_name: str | None = None,
    services: Iterable[str] = ("ags", "nrps"),
    privacy: str = "id_only",
    deployments: list[dict[str, Any]] | None = None,
) -> Registration:
    """Register a tool with a static public key (no JWKS URL: no network)."""
    if deployments is None:
        deployments = [
            {
                "deployment_id": DISTRICT_DEPLOYMENT,
                "org": DISTRICT,
                "placements": [{"school": SAKURA, "class": "5-2", "title": f"{slug} 5-2"}],
            }
        ]
    spec = {
        "tool": {"slug": slug, "name": slug, "kind": "drill"},
        "registration": {
            "initiate_login_uri": f"https://{slug}.example/login",
            "redirect_uris": [f"https://{slug}.example/launch"],
            "target_link_uri": f"https://{slug}.example/launch",
            "public_key_pem": public_pem(private_key(key_name or slug)),
            "allowed_services": list(services),
            "privacy_level": privacy,
        },
        "deployments": deployments,
    }
    return register_tool_from_spec(spec)


def assertion(
    client_id: str,
    *,
    key: rsa.RSAPrivateKey,
    headers: Mapping[str, Any] | None = None,
    algorithm: str = "RS256",
    **claims: Any,
) -> str:
    """A client assertion; a claim given as None is left out."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(
        payload, key, algorithm=algorithm, headers={"kid": "tool-key-1", **(headers or {})}
    )


def token_form(signed: str, scopes: Iterable[str], /, **overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "client_credentials",
        "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
        "client_assertion": signed,
        "scope": " ".join(scopes),
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def post_token(client: Client, form: Mapping[str, str]) -> Any:
    return client.post("/lti/token", urlencode(form), content_type=FORM)


def get_token(
    client: Client, registration: Registration, scopes: Iterable[str] = ALL_SCOPES
) -> str:
    signed = assertion(registration.client_id, key=private_key(registration.tool.slug))
    response = post_token(client, token_form(signed, scopes))
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def counts() -> dict[str, int]:
    """Row counts of everything a service request may write."""
    return {
        model.__name__: model.objects.count()
        for model in (AccessToken, LineItem, Score, ScoreEvent, OneTimeToken, Event, Delivery)
    }


def deployment(registration: Registration, deployment_id: str = DISTRICT_DEPLOYMENT) -> Deployment:
    return Deployment.objects.get(registration=registration, deployment_id=deployment_id)


def school_class(code: str) -> SchoolClass:
    return SchoolClass.objects.get(class_code=code)


def ags_url(dep: Deployment, klass: SchoolClass, suffix: str = "") -> str:
    return f"/lti/ags/{dep.pk}/{klass.sourced_id}/lineitems{suffix}"


def nrps_url(dep: Deployment, klass: SchoolClass) -> str:
    return f"/lti/nrps/{dep.pk}/{klass.sourced_id}/memberships"
