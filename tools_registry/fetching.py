"""GET a URL that a tool's vendor gave the platform without letting it reach the platform's
own network (server-side request forgery from the vendor console or Dynamic Registration).

``get`` resolves the URL's host itself (``socket.getaddrinfo``), refuses the request with
``PrivateAddress`` when any resolved address is not global — loopback (127/8, ::1), private
(10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata
service at 169.254.169.254, fe80::/10), shared (100.64/10), multicast, unspecified, an
IPv4-mapped IPv6 form of any of them — unless ``allow_private`` (``LTI_FETCH_PRIVATE_ADDRESSES``,
on for the demo and the tests whose tools run on 127.0.0.1), and then connects to the address
it checked, not to the name: the check runs inside the connection, on each new connection, so a
DNS answer that changes between the check and the connect (DNS rebinding) is not followed. TLS
still verifies the certificate against the URL's host name. Limits: the whole answer is checked
at connection time only — a redirect is a new request, so callers refuse redirects; proxies from
the environment (``HTTPS_PROXY``) are ignored, since the check would then see the proxy's
address instead of the tool's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError


class PrivateAddress(Exception):
    """The URL's host resolves to an address that is not global; nothing was sent to it."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to a private address ({address})")
        self.host = host
        self.address = address


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.partition("%")[0])  # fe80::1%eth0
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def checked_address(host: str, port: int, *, allow_private: bool) -> str:
    """Resolve ``host`` and return the address to connect to (the first one resolved).

    Raise ``PrivateAddress`` when any resolved address is not global, unless
    ``allow_private``; ``socket.gaierror`` when the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    if not allow_private:
        for address in addresses:
            if not _is_public(address):
                raise PrivateAddress(host, address)
    return addresses[0]


class _CheckedConnection(HTTPConnection):
    """Connect to the checked address of the host (see the module docstring)."""

    allow_private = False

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        try:
            address = checked_address(name, self.port, allow_private=self.allow_private)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        self._dns_host = address  # only the TCP connect reads it; TLS uses the name below
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


def _pool_classes(allow_private: bool) -> dict[str, type[HTTPConnectionPool]]:
    class Connection(_CheckedConnection):
        pass

    class SecureConnection(_CheckedConnection, HTTPSConnection):
        pass

    Connection.allow_private = SecureConnection.allow_private = allow_private

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = SecureConnection

    return {"http": Pool, "https": SecurePool}


_POOLS = {False: _pool_classes(False), True: _pool_classes(True)}


class _CheckedAdapter(HTTPAdapter):
    def __init__(self, *, allow_private: bool) -> None:
        self._pools = _POOLS[allow_private]
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools


def guard(session: requests.Session, *, allow_private: bool) -> requests.Session:
    """Make every request of ``session`` checked as the module docstring says (in place).

    For sessions that other code drives (allauth's requests to the upstream IdPs): each new
    connection, redirects' included, goes to a checked address or raises ``PrivateAddress``.
    """
    session.trust_env = False  # no proxy from the environment: the check must see the host
    adapter = _CheckedAdapter(allow_private=allow_private)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def get(
    url: str,
    *,
    allow_private: bool,
    timeout: tuple[float, float],
    headers: Mapping[str, str],
) -> requests.Response:
    """GET ``url`` as a stream, redirects not followed, checked as the module docstring says.

    Raise ``PrivateAddress`` before anything is sent to a non-global address, otherwise what
    ``requests`` raises. Use the response as a context manager (it is streamed)."""
    session = guard(requests.Session(), allow_private=allow_private)
    try:
        return session.get(
            url, timeout=timeout, headers=dict(headers), allow_redirects=False, stream=True
        )
    finally:
        session.close()
