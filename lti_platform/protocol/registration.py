"""LTI Dynamic Registration 1.0 (https://www.imsglobal.org/spec/lti-dr/v1p0/): the platform's
OpenID configuration (§3.5) and the validation of a tool's client registration request (§3.6,
OpenID Connect Dynamic Client Registration 1.0 with the ``lti-tool-configuration`` object).

Also the URL and custom-parameter rules every tool registration follows — ``register_tool``'s
JSON spec and a dynamic registration alike (``tools_registry.services``).

Errors are RFC 7591 §3.2.2's: ``invalid_redirect_uri`` for a redirect URI, else
``invalid_client_metadata``, each with a description naming the field; both 400.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import constants as c
from .claims import RESERVED_CUSTOM
from .errors import ProtocolError
from .text import find_unencodable

# Hosts where a tool may be served over plain http (a developer's machine, the tests).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_NAME = 200  # Tool.name
MAX_URL = 500  # the registration's URL fields
_DOMAIN = re.compile(r"\A(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}(?::\d{1,5})?\Z")


class FieldError(ValueError):
    """One field of a registration is invalid; the message names it."""


class InvalidClientMetadata(ProtocolError):
    error = "invalid_client_metadata"
    status = 400


class InvalidRedirectUri(InvalidClientMetadata):
    error = "invalid_redirect_uri"


# --- rules shared with register_tool ---------------------------------------------------------


def check_url(value: Any, field: str, *, required: bool = True) -> str:
    """An absolute http(s) URL without a fragment, or "" when absent and not required."""
    if not value:
        if required:
            raise FieldError(f"{field}: required")
        return ""
    try:
        parts = urlsplit(str(value))
        parts.port  # noqa: B018  (raises ValueError for a port out of range or not a number)
    except ValueError as exc:  # "http://[::1", "https://host:99999/"
        raise FieldError(f"{field}: not an http(s) URL: {value!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in str(value):
        raise FieldError(f"{field}: not an http(s) URL: {value!r}")
    if parts.fragment:
        raise FieldError(f"{field}: must not contain a fragment")
    return str(value)


def check_custom(value: Any, field: str) -> dict[str, str]:
    """Custom parameters: an object of strings, none of the keys the platform sets itself."""
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise FieldError(f"{field}: an object of strings is required")
    reserved = sorted(set(value) & RESERVED_CUSTOM)
    if reserved:
        raise FieldError(
            f"{field}: {', '.join(reserved)} is set by the platform and cannot be configured"
        )
    return dict(value)


# --- the platform's OpenID configuration ------------------------------------------------------


@dataclass(frozen=True)
class PlatformConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family_code: str
    version: str
    scopes: Sequence[str]  # the service scopes, without openid
    claims: Sequence[str]
    messages: Mapping[str, Sequence[str]]  # message type -> its placements
    variables: Sequence[str]


def openid_configuration(config: PlatformConfiguration) -> dict[str, Any]:
    """The OpenID configuration document of the platform (Dynamic Registration §3.5.2)."""
    return {
        "issuer": config.issuer,
        "authorization_endpoint": config.authorization_endpoint,
        "token_endpoint": config.token_endpoint,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": config.jwks_uri,
        "registration_endpoint": config.registration_endpoint,
        "scopes_supported": [c.SCOPE_OPENID, *config.scopes],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": list(config.claims),
        c.PLATFORM_CONFIGURATION: {
            "product_family_code": config.product_family_code,
            "version": config.version,
            "messages_supported": [
                {"type": kind, "placements": list(placements)} if placements else {"type": kind}
                for kind, placements in config.messages.items()
            ],
            "variables": list(config.variables),
        },
    }


# --- the client registration request ----------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message the tool declares (``lti-tool-configuration.messages[]``)."""

    type: str
    target_link_uri: str = ""
    label: str = ""
    icon_uri: str = ""
    placements: tuple[str, ...] = ()
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = ()

    def stored(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        for name in ("target_link_uri", "label", "icon_uri"):
            if getattr(self, name):
                body[name] = getattr(self, name)
        if self.placements:
            body["placements"] = list(self.placements)
        if self.custom_parameters:
            body["custom_parameters"] = dict(self.custom_parameters)
        if self.roles:
            body["roles"] = list(self.roles)
        return body


@dataclass(frozen=True)
class ClientMetadata:
    """A validated registration request: what the platform stores and echoes back."""

    client_name: str
    initiate_login_uri: str
    redirect_uris: tuple[str, ...]
    jwks_uri: str
    scopes: tuple[str, ...]
    domain: str
    target_link_uri: str
    secondary_domains: tuple[str, ...] = ()
    description: str = ""
    claims: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    extra_uris: Mapping[str, str] = field(default_factory=dict)  # logo_uri, client_uri…
    contacts: tuple[str, ...] = ()

    def message(self, kind: str) -> Message | None:
        return next((m for m in self.messages if m.type == kind), None)

    def stored(self) -> dict[str, Any]:
        """The client metadata as stored (the response adds ``client_id``)."""
        tool: dict[str, Any] = {"domain": self.domain}
        if self.secondary_domains:
            tool["secondary_domains"] = list(self.secondary_domains)
        tool["target_link_uri"] = self.target_link_uri
        if self.description:
            tool["description"] = self.description
        tool["custom_parameters"] = dict(self.custom_parameters)
        tool["claims"] = list(self.claims)
        tool["messages"] = [m.stored() for m in self.messages]
        body: dict[str, Any] = {
            "application_type": "web",
            "response_types": ["id_token"],
            "grant_types": ["implicit", "client_credentials"],
            "initiate_login_uri": self.initiate_login_uri,
            "redirect_uris": list(self.redirect_uris),
            "client_name": self.client_name,
            "jwks_uri": self.jwks_uri,
            "token_endpoint_auth_method": "private_key_jwt",
            "scope": " ".join(self.scopes),
        }
        body.update(self.extra_uris)
        if self.contacts:
            body["contacts"] = list(self.contacts)
        body[c.TOOL_CONFIGURATION] = tool
        return body


@dataclass(frozen=True)
class Supported:
    """What the platform offers: a tool may ask only for these scopes; claims, message types
    and placements it does not offer are left out of what is stored."""

    scopes: Collection[str]
    claims: Collection[str]
    messages: Mapping[str, Collection[str]]  # message type -> placements


def _fail(description: str) -> InvalidClientMetadata:
    return InvalidClientMetadata(description)


def _string(body: Mapping[str, Any], name: str, *, required: bool = True, limit: int = 0) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise _fail(f"{name}: required")
        return ""
    if not isinstance(value, str):
        raise _fail(f"{name}: must be a string")
    if limit and len(value) > limit:
        raise _fail(f"{name}: longer than {limit} characters")
    return value


def _strings(body: Mapping[str, Any], name: str, path: str = "") -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"{path or name}: must be an array of strings")
    return tuple(dict.fromkeys(value))


def _equal(body: Mapping[str, Any], name: str, expected: str) -> None:
    value = body.get(name)
    if value is None:
        raise _fail(f"{name}: required")
    if value != expected:
        raise _fail(f'{name}: must be "{expected}"')


def _same_set(body: Mapping[str, Any], name: str, expected: Sequence[str]) -> None:
    value = body.get(name)
    if value is None:
        raise _fail(f"{name}: required")
    if not isinstance(value, list) or sorted(set(map(str, value))) != sorted(expected):
        listed = ", ".join(f'"{v}"' for v in expected)
        raise _fail(f"{name}: must be [{listed}]")


def _domain(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _DOMAIN.match(value.lower()):
        raise _fail(f"{name}: a host name (optionally with a port) is required, not {value!r}")
    return value.lower()


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port


def _in_domain(url: str, domains: Sequence[str]) -> bool:
    host, port = _host_port(url)
    for domain in domains:
        want_host, _, want_port = domain.partition(":")
        if want_port and port != int(want_port):
            continue
        if host == want_host or host.endswith("." + want_host):
            return True
    return False


def _url(
    value: Any,
    name: str,
    domains: Sequence[str],
    *,
    required: bool = True,
    error: type[InvalidClientMetadata] = InvalidClientMetadata,
) -> str:
    """A URL of the tool: http(s), https unless on a loopback host, inside its domains."""
    if value is not None and not isinstance(value, str):
        raise error(f"{name}: must be a string")
    try:
        url = check_url(value, name, required=required)
    except FieldError as exc:
        raise error(str(exc)) from exc
    if not url:
        return ""
    if len(url) > MAX_URL:
        raise error(f"{name}: longer than {MAX_URL} characters")
    host, _ = _host_port(url)
    if url.startswith("http:") and host not in LOOPBACK_HOSTS:
        raise error(f"{name}: must be https (http only on localhost): {url}")
    if not _in_domain(url, domains):
        raise error(f"{name}: {url} is outside the tool's domain {' / '.join(domains)}")
    return url


def _custom(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    try:
        return check_custom(value, name)
    except FieldError as exc:
        raise _fail(str(exc)) from exc


def _scopes(body: Mapping[str, Any], supported: Collection[str]) -> tuple[str, ...]:
    raw = body.get("scope", "")
    if not isinstance(raw, str):
        raise _fail("scope: must be a string of space-separated scopes")
    scopes = tuple(dict.fromkeys(raw.split()))
    unknown = [s for s in scopes if s not in supported]
    if unknown:
        raise _fail(
            f"scope: not offered by this platform: {' '.join(unknown)} "
            f"(offered: {' '.join(supported)})"
        )
    return scopes


def _messages(value: Any, domains: Sequence[str], supported: Supported) -> tuple[Message, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(f"{c.TOOL_CONFIGURATION}.messages: must be an array")
    messages: list[Message] = []
    for i, raw in enumerate(value):
        name = f"{c.TOOL_CONFIGURATION}.messages[{i}]"
        if not isinstance(raw, dict):
            raise _fail(f"{name}: must be an object")
        kind = _string(raw, "type", required=False)
        if not kind:
            raise _fail(f"{name}.type: required")
        placements = _strings(raw, "placements", f"{name}.placements")
        roles = _strings(raw, "roles", f"{name}.roles")
        message = Message(
            type=kind,
            target_link_uri=_url(
                raw.get("target_link_uri"), f"{name}.target_link_uri", domains, required=False
            ),
            label=_string(raw, "label", required=False, limit=MAX_NAME),
            icon_uri=_url(raw.get("icon_uri"), f"{name}.icon_uri", domains, required=False),
            placements=tuple(p for p in placements if p in supported.messages.get(kind, ())),
            custom_parameters=_custom(raw.get("custom_parameters"), f"{name}.custom_parameters"),
            roles=roles,
        )
        if kind in supported.messages and all(m.type != kind for m in messages):
            messages.append(message)
    return tuple(messages)


def parse_client_metadata(
    body: Any, supported: Supported, *, jwks_uri_required: bool = True
) -> ClientMetadata:
    """Validate a client registration request; raise InvalidClientMetadata (or
    InvalidRedirectUri) naming the first field at fault.

    Message types, placements and claims the platform does not offer are left out (the echo
    shows the tool what was taken); a scope it does not offer is an error.
    ``jwks_uri_required=False``: a registration made by hand may give a public key instead
    (the caller checks it); Dynamic Registration always requires the URL.
    """
    if not isinstance(body, dict):
        raise _fail("the client metadata must be a JSON object")
    unencodable = find_unencodable(body, nul=True)
    if unencodable is not None:
        raise _fail(unencodable.describe(whole="the client metadata"))
    _equal(body, "application_type", "web")
    _same_set(body, "response_types", ["id_token"])
    _same_set(body, "grant_types", ["implicit", "client_credentials"])
    _equal(body, "token_endpoint_auth_method", "private_key_jwt")
    client_name = _string(body, "client_name", limit=MAX_NAME)
    tool = body.get(c.TOOL_CONFIGURATION)
    if tool is None:
        raise _fail(f"{c.TOOL_CONFIGURATION}: required")
    if not isinstance(tool, dict):
        raise _fail(f"{c.TOOL_CONFIGURATION}: must be an object")
    domain = _domain(tool.get("domain"), f"{c.TOOL_CONFIGURATION}.domain")
    secondary_path = f"{c.TOOL_CONFIGURATION}.secondary_domains"
    secondary = tuple(
        _domain(d, secondary_path) for d in _strings(tool, "secondary_domains", secondary_path)
    )
    domains = (domain, *secondary)
    redirect_uris = body.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise InvalidRedirectUri("redirect_uris: a non-empty array is required")
    redirects = tuple(
        dict.fromkeys(
            _url(u, f"redirect_uris[{i}]", domains, error=InvalidRedirectUri)
            for i, u in enumerate(redirect_uris)
        )
    )
    extra = {
        name: _url(body.get(name), name, domains, required=False)
        for name in ("logo_uri", "client_uri", "policy_uri", "tos_uri")
    }
    claims = _strings(tool, "claims", f"{c.TOOL_CONFIGURATION}.claims")
    return ClientMetadata(
        client_name=client_name,
        initiate_login_uri=_url(body.get("initiate_login_uri"), "initiate_login_uri", domains),
        redirect_uris=redirects,
        jwks_uri=_url(body.get("jwks_uri"), "jwks_uri", domains, required=jwks_uri_required),
        scopes=_scopes(body, supported.scopes),
        domain=domain,
        secondary_domains=secondary,
        target_link_uri=_url(
            tool.get("target_link_uri"), f"{c.TOOL_CONFIGURATION}.target_link_uri", domains
        ),
        description=_string(tool, "description", required=False, limit=2000),
        claims=tuple(claim for claim in claims if claim in supported.claims),
        messages=_messages(tool.get("messages"), domains, supported),
        custom_parameters=_custom(
            tool.get("custom_parameters"), f"{c.TOOL_CONFIGURATION}.custom_parameters"
        ),
        extra_uris={name: url for name, url in extra.items() if url},
        contacts=_strings(body, "contacts"),
    )
