"""The demo tools' own configuration: what a vendor would keep on the tool's side.

It lives in a JSON file (``DEMO_TOOLS_CONFIG``, default ``var/demo_tools.json``) written when
the tools are registered with the portal; the tools never read the portal's database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from pylti1p3.tool_config import ToolConfDict

from lti_platform.protocol import jose

DEMO_TOOLS = ("drill", "textbook", "cbt")


def config_path() -> Path:
    return Path(getattr(settings, "DEMO_TOOLS_CONFIG", settings.DATA_DIR / "demo_tools.json"))


def key_dir() -> Path:
    return config_path().parent / "demo_tool_keys"


def tool_private_key_pem(slug: str) -> bytes:
    """Return the tool's own RSA key, creating it on first use."""
    path = key_dir() / f"{slug}.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jose.private_key_to_pem(jose.generate_private_key()))
        path.chmod(0o600)
    return path.read_bytes()


def tool_public_key_pem(slug: str) -> str:
    key = jose.load_private_key(tool_private_key_pem(slug))
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def tool_public_jwks(slug: str) -> dict[str, Any]:
    key = serialization.load_pem_private_key(tool_private_key_pem(slug), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)  # noqa: S101
    return jose.jwks([jose.public_jwk(key.public_key())])


@dataclass
class ToolSettings:
    slug: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    key_set_url: str | None
    key_set: dict[str, Any] | None


def load_all() -> dict[str, dict[str, Any]]:
    path = config_path()
    if not path.exists():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def save(slug: str, entry: dict[str, Any]) -> None:
    data = load_all()
    data[slug] = entry
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # 0600 from the start: it holds the tools' LRS secrets (``xapi``).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(json.dumps(data, ensure_ascii=False, indent=2))


def tool_conf(slug: str) -> ToolConfDict | None:
    """Return pylti1p3's configuration for one demo tool, or None if it is not registered."""
    entry = load_all().get(slug)
    if not entry:
        return None
    issuer = entry["issuer"]
    conf = ToolConfDict(
        {
            issuer: [
                {
                    "default": True,
                    "client_id": entry["client_id"],
                    "auth_login_url": issuer + "/lti/authorize",
                    "auth_token_url": issuer + "/lti/token",
                    "auth_audience": None,
                    "key_set_url": entry.get("key_set_url"),
                    "key_set": entry.get("key_set"),
                    "deployment_ids": entry["deployment_ids"],
                }
            ]
        }
    )
    conf.set_private_key(issuer, tool_private_key_pem(slug).decode(), client_id=entry["client_id"])
    conf.set_public_key(issuer, tool_public_key_pem(slug), client_id=entry["client_id"])
    return conf
