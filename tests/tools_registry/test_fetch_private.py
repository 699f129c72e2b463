"""Without LTI_FETCH_PRIVATE_ADDRESSES a tool's JWKS URL whose host resolves to a loopback,
private or link-local address is refused before anything is sent; a public one is fetched
from the address that was checked."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from urllib3.util import connection

from tests.factories import RegistrationFactory
from tests.tools_registry.test_tool_keys import ToolJwks, tool_jwks  # noqa: F401 (fixture)
from tools_registry import tool_keys
from tools_registry.tool_keys import UNREACHABLE, JwksUnreachable

pytestmark = pytest.mark.django_db

Resolved = list[tuple[Any, ...]]


def answer(*addresses: str) -> Resolved:
    """What ``getaddrinfo`` gives for a name with these addresses."""
    return [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, 443, 0, 0))
        if ":" in a
        else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 443))
        for a in addresses
    ]


@pytest.fixture
def connects(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The setting off, and every TCP connection attempt recorded and refused."""
    settings.LTI_FETCH_PRIVATE_ADDRESSES = False
    attempts: list[tuple[str, int]] = []

    def refuse(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        raise ConnectionRefusedError("no network in tests")

    monkeypatch.setattr(connection, "create_connection", refuse)
    return attempts


def resolve_as(monkeypatch: pytest.MonkeyPatch, names: dict[str, Resolved]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Resolved:
        if host in names:
            return names[host]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def refused_reason(url: str) -> str:
    registration = RegistrationFactory.create(jwks_url=url, public_key_pem="")
    with pytest.raises(JwksUnreachable) as caught:
        tool_keys.refresh_tool_keys(registration)
    assert str(caught.value) == UNREACHABLE
    return caught.value.reason


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8001/jwks.json", "127.0.0.1"),
        ("http://[::1]:8001/jwks.json", "::1"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://[fe80::1]/jwks.json", "fe80::1"),
        ("https://[fd00::5]/jwks.json", "fd00::5"),
        ("https://172.16.0.1/jwks.json", "172.16.0.1"),
        ("https://192.168.1.1/jwks.json", "192.168.1.1"),
        ("https://[::ffff:10.0.0.5]/jwks.json", "::ffff:10.0.0.5"),
    ],
)
def test_a_jwks_url_on_a_private_address_is_refused_unfetched(
    connects: list[tuple[str, int]], url: str, address: str
) -> None:
    assert refused_reason(url) == (
        f"tool JWKS URL resolves to a private address ({address}): refused"
    )
    assert connects == []


def test_a_name_that_resolves_to_a_private_address_is_refused_unfetched(
    connects: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_as(monkeypatch, {"tool.example.jp": answer("10.0.0.5")})

    reason = refused_reason("https://tool.example.jp/.well-known/jwks.json")

    assert reason == "tool JWKS URL resolves to a private address (10.0.0.5): refused"
    assert connects == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(
    connects: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_as(
        monkeypatch, {"tool.example.jp": answer("93.184.216.34", "2606:4700::1111", "fc00::1")}
    )

    reason = refused_reason("https://tool.example.jp/jwks.json")

    assert reason == "tool JWKS URL resolves to a private address (fc00::1): refused"
    assert connects == []


def test_the_refusal_is_remembered_like_other_fetch_failures(
    connects: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.LTI_JWKS_REFETCH_SECONDS = 60
    resolve_as(monkeypatch, {"tool.example.jp": answer("10.0.0.5")})
    registration = RegistrationFactory.create(
        jwks_url="https://tool.example.jp/jwks.json", public_key_pem=""
    )
    with pytest.raises(JwksUnreachable):
        tool_keys.tool_public_key(registration, "k1", now=1000.0)

    with pytest.raises(JwksUnreachable) as caught:
        tool_keys.tool_public_key(registration, "k1", now=1010.0)

    assert caught.value.reason == (
        "tool JWKS URL resolves to a private address (10.0.0.5): refused"
        " (not retried within 60 s of the failure)"
    )
    assert connects == []


def test_a_public_address_passes_the_check_and_is_the_one_connected_to(
    connects: list[tuple[str, int]],
    monkeypatch: pytest.MonkeyPatch,
    tool_jwks: ToolJwks,  # noqa: F811
) -> None:
    tool_jwks.kids = ["k1"]
    port = tool_jwks.server.server_address[1]
    resolve_as(monkeypatch, {"tool.example.jp": answer("93.184.216.34")})
    real = socket.create_connection

    def to_the_test_tool(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connects.append(address)
        return real(("127.0.0.1", port), *args[:1])  # the fetch itself, on loopback

    monkeypatch.setattr(connection, "create_connection", to_the_test_tool)
    registration = RegistrationFactory.create(
        jwks_url=f"http://tool.example.jp:{port}/jwks.json", public_key_pem=""
    )

    assert tool_keys.refresh_tool_keys(registration) == ["k1"]
    assert connects == [("93.184.216.34", port)]
    assert tool_jwks.fetches == 1


def test_with_the_setting_on_a_private_address_is_fetched(
    settings: Any,
    tool_jwks: ToolJwks,  # noqa: F811
) -> None:
    settings.LTI_FETCH_PRIVATE_ADDRESSES = True
    tool_jwks.kids = ["k1"]
    registration = RegistrationFactory.create(jwks_url=tool_jwks.url, public_key_pem="")

    assert tool_keys.refresh_tool_keys(registration) == ["k1"]
    assert tool_jwks.fetches == 1
