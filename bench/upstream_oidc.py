"""CPU of a child's sign-in through an upstream OpenID Connect IdP (Google, Entra ID, a
prefecture's IdP), through the product's WSGI application in-process (no HTTP server).

In a throw-away installation (bench/common.py) with ``--students`` children over the demo
homerooms, the demo board's administrator adds an OpenID Connect IdP through the product's
own action (``sso.idp_admin.add_idp``); the IdP is the tests' real one (panva's oidc-provider
under Node, tests/peers/oidc_idp; ``scripts/bootstrap.sh dev`` installs it) with one account
per child. Each sign-in: ``GET /accounts/login/`` (the CSRF token), ``POST`` the IdP button
(→ 302 to the IdP with state and PKCE), the IdP's own sign-in form (played over HTTP, not
counted in the portal's CPU), and the callback (the portal exchanges the code at the IdP's
token endpoint, reads userinfo, matches the roster and signs the child in → 302 home). It
prints the portal's CPU per sign-in (the IdP's Node process apart), the wall median and p99 of
the whole sign-in including the IdP, and what 2,000 children would cost on this machine.

    .venv/bin/python -m bench.upstream_oidc                  # 200 sign-ins
    .venv/bin/python -m bench.upstream_oidc --count 500 --students 500
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from bench import common

PASSWORD = "bench-idp-password"  # noqa: S105  (the bench IdP's accounts)
CLIENT_ID, CLIENT_SECRET = "manabi-bench", "manabi-bench-secret"
COOKIE = re.compile(r"(csrftoken|sessionid)=([^;]+)")
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def populate(students: int, idp_issuer: str) -> dict[str, Any]:
    """(Django) Children over the demo homerooms and the board's IdP (the product's action)."""
    from roster.models import ClassType, OrgType, RosterRole, SchoolClass, User
    from sso import idp_admin
    from sso.models import IdpKind, MatchRule

    homerooms = list(SchoolClass.objects.filter(class_type=ClassType.HOMEROOM))
    users = common.add_students("up-", [[homerooms[i % len(homerooms)]] for i in range(students)])
    admin = User.objects.get(role=RosterRole.DISTRICT_ADMINISTRATOR, org__type=OrgType.DISTRICT)
    assert admin.org is not None
    idp = idp_admin.add_idp(
        acting_user=admin,
        org=admin.org,
        values=idp_admin.IdpSettings(
            kind=IdpKind.OIDC,
            name_ja="ベンチIdP",
            issuer=idp_issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            match_rule=MatchRule.USERNAME,
            match_claim="preferred_username",
        ),
    )
    return {
        "provider_id": idp.provider_id,
        "callback": idp_admin.callback_path(idp),
        "usernames": [u.username for u in users],
    }


def _cookies(headers: dict[str, str], jar: dict[str, str]) -> None:
    for name, value in COOKIE.findall(headers.get("Set-Cookie", "")):
        jar[name] = value


def measure(count: int, provider_id: str, usernames: list[str], idp_issuer: str) -> dict[str, Any]:
    """(Django) ``count`` upstream sign-ins; the portal's CPU and the whole wall per sign-in."""
    from pathlib import Path

    from tests.peers.oidc_idp import OidcIdP

    app = common.Wsgi()
    idp = OidcIdP(work_dir=Path("."), port=int(urlsplit(idp_issuer).port or 0))
    login = f"/accounts/oidc/{provider_id}/login/"
    walls, portal_cpu = [], 0.0

    def sign_in(username: str) -> float:
        jar: dict[str, str] = {}
        cpu0 = time.process_time()
        status, headers, body = app("GET", "/accounts/login/")
        assert status == 200, status
        _cookies(headers, jar)
        token = CSRF_FIELD.search(body)
        assert token is not None
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        form = urlencode({"csrfmiddlewaretoken": token.group(1).decode()}).encode()
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        status, headers, body = app("POST", login, {"Cookie": cookie, **form_type}, form)
        assert status == 302, (status, body[:300])
        _cookies(headers, jar)
        cpu = time.process_time() - cpu0
        back = idp.sign_in(headers["Location"], username, PASSWORD)  # the IdP's part
        parts = urlsplit(back)
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        cpu0 = time.process_time()
        path = f"{parts.path}?{urlencode(dict(parse_qsl(parts.query)))}"
        status, headers, body = app("GET", path, {"Cookie": cookie})
        assert status == 302 and headers["Location"] == "/", (status, headers, body[:300])
        return cpu + time.process_time() - cpu0

    for username in usernames[: min(10, count)]:  # warm-up, not measured
        sign_in(username)
    for i in range(count):
        t0 = time.perf_counter()
        portal_cpu += sign_in(usernames[i % len(usernames)])
        walls.append(1000 * (time.perf_counter() - t0))
    walls.sort()
    return {
        "count": count,
        "cpu_ms": 1000 * portal_cpu / count,
        "median_ms": statistics.median(walls),
        "p99_ms": walls[min(len(walls) - 1, int(0.99 * len(walls)))],
    }


def main() -> None:
    from tests.peers.oidc_idp import start_oidc_idp

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="sign-ins measured")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.count <= 20_000 or not 1 <= args.students <= 20_000:
        parser.error("--count and --students must be 1..20000")
    idp_port = common.free_port()
    idp_issuer = f"http://{common.HOST}:{idp_port}"
    with common.installation(
        "bench.upstream_oidc:populate", args, students=args.students, idp_issuer=idp_issuer
    ) as inst:
        data = inst.data
        accounts = {
            name: {
                "password": PASSWORD,
                "claims": {"sub": f"sub-{name}", "preferred_username": name},
            }
            for name in data["usernames"]
        }
        redirect = f"http://{common.HOST}:{inst.port}{data['callback']}"
        for _idp in start_oidc_idp(
            [redirect], port=idp_port, accounts=accounts, client=(CLIENT_ID, CLIENT_SECRET)
        ):
            r = inst.call(
                "bench.upstream_oidc:measure",
                count=args.count,
                provider_id=data["provider_id"],
                usernames=data["usernames"],
                idp_issuer=idp_issuer,
            )
    children = 2000
    core_s = children * r["cpu_ms"] / 1000
    print(
        f"\nupstream OpenID Connect sign-in (in-process, {r['count']} sign-ins, the IdP's form"
        f" and the code exchange included):"
        f"\n  portal CPU {r['cpu_ms']:.1f} ms per sign-in (the IdP's Node process apart); wall"
        f" median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"
        f"\n  {children} children: {core_s:.0f} portal core-seconds, "
        f"{core_s / common.CORES:.0f} s on this machine's {common.CORES} cores"
    )


if __name__ == "__main__":
    main()
