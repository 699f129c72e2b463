"""The 8:30 burst: a whole school signs in from one address and launches a tool.

In a throw-away installation (bench/common.py) with ``--students`` extra children over the
demo homerooms, whose teachers issue them QR sign-in cards through the product's own action
(``signin_cards.services.issue_cards``), the product's server (gunicorn with
config/gunicorn.conf.py unless ``--topology``) is driven over HTTP from 127.0.0.1 only — one
client address, as a school behind its NAT:

1. **password** sign-ins: ``GET /accounts/login/`` (the CSRF cookie and token), ``POST`` the
   username and password (Django's default PBKDF2 hasher, the production one) → 302; closed
   loop of ``--password-concurrency`` clients for ``--seconds``;
2. **card** sign-ins: ``GET /signin/card/``, ``POST`` the card's QR text → 302 and a session;
   closed loop of ``--concurrency`` clients for ``--seconds``;
3. **the burst**: ``--students`` children arrive evenly over ``--arrival-seconds`` (an open
   loop: each child starts on time whatever the server's backlog), each on a new connection
   of its own: card sign-in (2 requests), the home page, and a full LTI launch of the drill
   (``/lti/launch/…`` → the tool's login initiation → ``/lti/authorize`` → the auto-submitting
   form with the id_token addressed to the tool's target; the bench plays the tool, as
   bench/launch_flow.py does) — 5 requests. Targets: every child done within 60 s of the
   first arrival, p99 of a child's whole sequence under 1 s, zero errors.

OIDC sign-in (an upstream identity provider) needs that provider's peer running; this bench
does not start one and says so.

    .venv/bin/python -m bench.signin_burst                     # all three, default topology
    .venv/bin/python -m bench.signin_burst --only burst --students 2000
    .venv/bin/python -m bench.signin_burst --profile 200       # in-process: a card sign-in
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from bench import common
from bench.common import Connection, Installation, LoadResult

DRILL = "demo-drill"
PASSWORD = "bench-password-8:30"  # noqa: S105  (the bench's own accounts)
PASSWORD_USERS = 40
TARGET_SECONDS, TARGET_P99_MS, TARGET_CHILDREN = 60.0, 1000.0, 2000
MAX_OPEN = 512  # connections the burst holds at most at once (arrivals wait beyond it)
CSRF_COOKIE = re.compile(rb"(?im)^set-cookie:\s*csrftoken=([^;\r\n]+)")
SESSION_COOKIE = re.compile(rb"(?im)^set-cookie:\s*sessionid=([^;\r\n]+)")
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def populate(students: int) -> dict[str, Any]:
    """(Django) Children over the demo homerooms with cards issued by their teachers, a few
    accounts with a real password, and the drill's launch path of each child."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.urls import reverse

    from roster import membership
    from roster.models import ClassType, RosterRole, SchoolClass, User
    from signin_cards import services
    from tools_registry.models import Placement, Registration

    homerooms = list(
        SchoolClass.objects.filter(class_type=ClassType.HOMEROOM).select_related("school")
    )
    drill = Placement.objects.filter(deployment__registration__tool__slug=DRILL, school_class=None)
    link_of_school = {p.school_id: p.resource_link_id for p in drill}
    with transaction.atomic():
        users = common.add_students(
            "bench-child-", [[homerooms[i % len(homerooms)]] for i in range(students)]
        )
        hashed = make_password(PASSWORD)  # one PBKDF2 hash (1,000,000 iterations), shared
        User.objects.filter(pk__in=[u.pk for u in users[:PASSWORD_USERS]]).update(password=hashed)
    cards: list[tuple[str, str]] = []
    for klass in homerooms:
        teacher = membership.members(klass, roles=[RosterRole.TEACHER]).first()
        assert teacher is not None, klass  # the demo gives each homeroom one
        printed = services.issue_cards(acting_user=teacher.user, school_class=klass)
        path = reverse(
            "lti_platform:launch", args=[link_of_school[klass.school_id], klass.sourced_id]
        )
        cards += [(card.secret, path) for card in printed]
    return {
        "cards": cards,
        "passwords": [u.username for u in users[:PASSWORD_USERS]],
        "redirect_uri": Registration.objects.get(tool__slug=DRILL).redirect_uris[0],
    }


# --- the browser's steps -----------------------------------------------------------------------


def _get(conn: Connection, path: bytes, cookie: bytes = b"") -> bytes:
    extra = b"Cookie: %s\r\n" % cookie if cookie else b""
    return b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" % (
        path,
        common.HOST.encode(),
        conn.port,
        extra,
    )


def _post(conn: Connection, path: bytes, cookie: bytes, form: dict[str, str]) -> bytes:
    body = urlencode(form).encode()
    return b"".join(
        [
            b"POST %s HTTP/1.1\r\nHost: %s:%d\r\n" % (path, common.HOST.encode(), conn.port),
            b"Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n" % cookie,
            b"Content-Length: %d\r\n\r\n" % len(body),
            body,
        ]
    )


async def sign_in(conn: Connection, page: bytes, form: dict[str, str]) -> tuple[str, bytes] | bytes:
    """GET the sign-in page, POST ``form`` with its CSRF token: the session cookie, or an
    error ``(label, reply)``."""
    status, _, body = await conn.request(_get(conn, page))
    csrf, token = CSRF_COOKIE.search(conn.head), CSRF_FIELD.search(body)
    if status != 200 or csrf is None or token is None:
        return f"{page.decode()} GET HTTP {status}", body[:300]
    cookie = b"csrftoken=" + csrf[1]
    status, _, body = await conn.request(
        _post(conn, page, cookie, form | {"csrfmiddlewaretoken": token[1].decode()})
    )
    session = SESSION_COOKIE.search(conn.head)
    if status != 302 or session is None:
        return f"{page.decode()} POST HTTP {status}", body[:300]
    return cookie + b"; sessionid=" + session[1]


def password_step(inst: Installation) -> common.Step:
    users = itertools.cycle(inst.data["passwords"])

    async def step(conn: Connection) -> common.Reply:
        form = {"login": next(users), "password": PASSWORD}
        done = await sign_in(conn, b"/accounts/login/", form)
        return done if isinstance(done, tuple) else ("", done)

    return step


def card_step(inst: Installation) -> common.Step:
    cards = itertools.cycle(inst.data["cards"])

    async def step(conn: Connection) -> common.Reply:
        done = await sign_in(conn, b"/signin/card/", {"secret": next(cards)[0]})
        return done if isinstance(done, tuple) else ("", done)

    return step


async def child(conn: Connection, secret: str, path: str, redirect_uri: bytes) -> common.Reply:
    """One child at 8:30: card sign-in, home, a full launch."""
    cookie = await sign_in(conn, b"/signin/card/", {"secret": secret})
    if isinstance(cookie, tuple):
        return cookie
    status, _, body = await conn.request(_get(conn, b"/", cookie))
    if status != 200:
        return f"home HTTP {status}", body[:300]
    return await common.launch(conn, cookie, path.encode(), redirect_uri)


async def burst(port: int, inst: Installation, arrival_seconds: float) -> LoadResult:
    """Every child of ``inst`` arrives evenly over ``arrival_seconds`` (open loop)."""
    result = LoadResult()
    redirect_uri = quote(inst.data["redirect_uri"], safe="").encode()
    children = inst.data["cards"]
    gap = arrival_seconds / len(children)
    slots = asyncio.Semaphore(MAX_OPEN)
    start = time.perf_counter()

    async def arrive(index: int, secret: str, path: str) -> None:
        await asyncio.sleep(max(0.0, start + index * gap - time.perf_counter()))
        t0 = time.perf_counter()  # the child taps the card page now, ready or not
        async with slots:
            conn = Connection(port)
            try:
                async with asyncio.timeout(common.REQUEST_TIMEOUT):
                    reply = await child(conn, secret, path, redirect_uri)
            except (OSError, asyncio.IncompleteReadError, common.HttpError, ValueError) as exc:
                reply = type(exc).__name__, str(exc).encode()
            except TimeoutError:
                reply = "timeout", b""
            finally:
                conn.close()
        if reply[0]:
            result.errors[reply[0]] += 1
            result.sample_error = result.sample_error or reply[1]
        else:
            result.ok += 1
            result.latencies_ms.append(1000 * (time.perf_counter() - t0))
            result.sample = result.sample or reply[1]

    await asyncio.gather(*(arrive(i, s, p) for i, (s, p) in enumerate(children)))
    result.wall_s = time.perf_counter() - start
    return result


def measure_burst(server: common.Server, inst: Installation, arrival_seconds: float) -> LoadResult:
    """``burst`` with the CPU accounting of ``common.measure``."""
    import os

    cpu0, busy0 = common.tree_cpu_seconds(server.proc.pid), common.machine_busy_seconds()
    times0 = os.times()
    result = asyncio.run(burst(server.port, inst, arrival_seconds))
    times1, busy1 = os.times(), common.machine_busy_seconds()
    result.server_cpu_s = common.tree_cpu_seconds(server.proc.pid) - cpu0
    result.client_cpu_s = (times1.user - times0.user) + (times1.system - times0.system)
    result.others_cpu_s = max(0.0, busy1 - busy0 - result.server_cpu_s - result.client_cpu_s)
    return result


# --- in-process profile ------------------------------------------------------------------------


def profile(count: int, cards: list[list[str]], redirect_uri: str, **_rest: Any) -> None:
    """(Django) Where a child's CPU goes, through the product's WSGI application: the home
    page and a full launch of signed-in children (CPU and SQL each), then the card sign-in
    (GET + POST) with its SQL and profile."""
    app = common.Wsgi()
    turn = itertools.cycle(cards)
    quoted = quote(redirect_uri, safe="").encode()
    form_type = "application/x-www-form-urlencoded"

    def card_sign_in() -> tuple[str, str]:
        secret, path = next(turn)
        status, headers, body = app("GET", "/signin/card/")
        assert status == 200, status
        cookie = headers.get("Set-Cookie", "").strip().split(";", 1)[0]
        match = CSRF_FIELD.search(body)
        assert match is not None and cookie.startswith("csrftoken="), headers
        form = urlencode({"csrfmiddlewaretoken": match[1].decode(), "secret": secret})
        status, headers, body = app(
            "POST", "/signin/card/", {"Cookie": cookie, "Content-Type": form_type}, form.encode()
        )
        assert status == 302, (status, body[:300])
        return headers["Set-Cookie"].strip().split(";", 1)[0], path

    def home(cookie: str, _path: str) -> None:
        status, _, body = app("GET", "/", {"Cookie": cookie})
        assert status == 200, (status, body[:300])

    def launch(cookie: str, path: str) -> None:
        status, headers, _ = app("GET", path, {"Cookie": cookie})
        assert status == 302, status
        step2 = common.authorize_path(headers["Location"].encode(), quoted).decode()
        status, _, body = app("GET", step2, {"Cookie": cookie})
        assert status == 200 and b'name="id_token"' in body, (status, body[:300])

    signed = [card_sign_in() for _ in range(min(count, len(cards)))]
    again = itertools.cycle(signed)
    steps: list[tuple[str, Callable[[str, str], None]]] = [
        ("the home page (GET /)", home),
        ("a full launch (2 requests)", launch),
    ]
    for label, step in steps:
        with common.recording_sql() as sql:
            step(*next(again))

        def call(step: Callable[[str, str], None] = step) -> None:
            step(*next(again))

        _, cpu_ms = common.per_call(call, count)
        print(f"{label}, signed in: {cpu_ms:.2f} ms CPU, {len(sql)} SQL statements")
    common.profile("a card sign-in (GET + POST)", card_sign_in, count)


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = common.arguments(__doc__, students=2000, quiet_wait=10.0)
    parser.add_argument("--only", choices=["password", "card", "burst"], action="append")
    parser.add_argument("--password-concurrency", type=int, default=4)
    parser.add_argument("--arrival-seconds", type=float, default=50.0)
    args = parser.parse_args()
    parts = args.only or ["password", "card", "burst"]
    if not (1 <= args.concurrency <= 1024 and 0 < args.arrival_seconds <= TARGET_SECONDS):
        parser.error(f"--concurrency must be 1..1024, --arrival-seconds 0..{TARGET_SECONDS:.0f}")
    rows: list[tuple[str, LoadResult]] = []
    with common.installation("bench.signin_burst:populate", args, students=args.students) as inst:
        if args.profile:
            inst.call("bench.signin_burst:profile", quiet=False, count=args.profile, **inst.data)
            return
        with common.serve(inst, args.topology) as server:
            print(f"  server: {args.topology.label} on port {server.port}", flush=True)
            warm = common.measure(server, card_step(inst), concurrency=4, seconds=args.warmup)
            print(f"  warm-up: {warm.ok} card sign-ins, errors {dict(warm.errors) or 0}")
            if "password" in parts:
                common.wait_for_quiet(args.quiet_wait)
                r = common.measure(
                    server,
                    password_step(inst),
                    fresh=True,
                    concurrency=args.password_concurrency,
                    seconds=args.seconds,
                )
                common.report("password sign-ins", r)
                rows.append(("password (GET + POST)", r))
            if "card" in parts:
                common.wait_for_quiet(args.quiet_wait)
                r = common.measure(
                    server,
                    card_step(inst),
                    fresh=True,
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                )
                common.report("card sign-ins", r)
                rows.append(("QR card (GET + POST)", r))
            if "burst" in parts:
                common.wait_for_quiet(args.quiet_wait)
                r = measure_burst(server, inst, args.arrival_seconds)
                common.report("burst", r)
                rows.append((f"burst: {r.ok + sum(r.errors.values())} children", r))
        inst.keep = inst.keep or any(r.errors for _, r in rows)
    print(
        "\nOIDC sign-in: not measured here (it needs an upstream identity provider's peer "
        "running; none is started by this bench)\n"
    )
    common.print_table("sign-in", "per s", "sign-in", rows)
    for name, r in rows:
        if name.startswith("burst"):
            met = r.wall_s <= TARGET_SECONDS and r.percentile(0.99) < TARGET_P99_MS
            met = met and not r.errors and r.ok == len(inst.data["cards"])
            print(
                f"\nburst: {r.ok} children signed in and launched in {r.wall_s:.1f} s from the "
                f"first arrival (arrivals over {args.arrival_seconds:.0f} s), p99 "
                f"{r.percentile(0.99):.0f} ms, errors {sum(r.errors.values())}; target "
                f"(≤ {TARGET_SECONDS:.0f} s, p99 < {TARGET_P99_MS:.0f} ms, no error): "
                f"{'met' if met else 'missed'}"
            )
            if r.ok:
                need = r.server_ms * TARGET_CHILDREN / 1000
                print(
                    f"  server CPU per child {r.server_ms:.1f} ms: {TARGET_CHILDREN} children "
                    f"need {need:.0f} CPU-s, {need / common.CORES:.0f} s of all {common.CORES} "
                    f"cores (others took {100 * r.others_share:.0f} % of the machine meanwhile)"
                )
    if any(r.errors for _, r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
