"""Load benchmark of the full LTI 1.3 launch as a signed-in student's browser makes it.

One launch is two requests to our platform server (the bench plays the browser and the tool):
``GET /lti/launch/<resource_link_id>/<class>`` → 302 to the drill tool's OIDC initiate-login
URL; then the tool's ``GET /lti/authorize?scope=openid&response_type=id_token&…`` with the
hints of step 1 → 200 and the auto-submitting form carrying ``id_token``. In a throw-away
installation (bench/common.py) with 2,000 extra students over the demo homerooms, each signed
in by Django's login, 32 asyncio clients drive the server (gunicorn with config/gunicorn.conf.py,
or scripts/serve.sh), every launch a different student on a new connection kept alive from
step 1 to step 2, as a browser does (``--connections persistent`` reuses them instead).

It prints launches/s, latency percentiles, errors, the server's CPU per launch (its process
tree's utime+stime during the window) and its ratio to one bare RS256 sign of the same id_token
payload (a loaded key of the same size, measured in the same run with the servers stopped: the
fastest of five runs of 200 in a row; the issue's target: at most 10×), the client's CPU and the
CPU other processes took meanwhile. ``--rsa portable`` runs every process of the installation
(servers and the bare sign) with OpenSSL's AVX-512 IFMA code path masked off: the RSA of CPUs
without it, on which a sign costs ~2.4× more while nothing else does (docs/benchmarks.md).

    .venv/bin/python -m bench.launch_flow                   # gunicorn.conf.py defaults, 20 s
    .venv/bin/python -m bench.launch_flow --topology sync2  # one named topology
    .venv/bin/python -m bench.launch_flow --compare         # main topologies, interleaved
    .venv/bin/python -m bench.launch_flow --profile 300     # in-process: where a launch's CPU goes
    .venv/bin/python -m bench.launch_flow --rsa portable    # RSA without AVX-512 IFMA

``--compare`` starts every server first, then measures them in ``--rounds`` interleaved slices
so that background noise hits all of them alike. ``--profile`` calls the product's WSGI
application in-process (no HTTP server): the SQL of one launch, CPU per launch and cProfile.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from bench import common
from bench.common import Connection, Installation, LoadResult, Topology

DRILL = "demo-drill"
COMPARE = "sync2,gthread2x2,gthread2x4,gthread4x4,uvicorn1"
TARGET_RATE, TARGET_P99_MS, TARGET_SIGNS = 300, 150.0, 10.0
SIGN_CHUNKS = 5  # runs of bare signs; the fastest run's median is the unit of the CPU target


def populate(students: int) -> dict[str, Any]:
    """(Django) Students over the demo homerooms, signed in, and their drill launch paths."""
    from django.db import transaction
    from django.urls import reverse

    from roster.models import ClassType, SchoolClass
    from tools_registry.models import Placement, Registration

    homerooms = list(
        SchoolClass.objects.filter(class_type=ClassType.HOMEROOM).select_related("school")
    )
    drill = Placement.objects.filter(deployment__registration__tool__slug=DRILL, school_class=None)
    link_of_school = {p.school_id: p.resource_link_id for p in drill}
    with transaction.atomic():
        users = common.add_students(
            "bench-student-", [[homerooms[i % len(homerooms)]] for i in range(students)]
        )
        cookies = common.sign_in(users)
    launches = [
        (cookie, reverse("lti_platform:launch", args=[link_of_school[c.school_id], c.sourced_id]))
        for cookie, c in zip(cookies, (u.home_class for u in users), strict=True)
    ]
    redirect_uri = Registration.objects.get(tool__slug=DRILL).redirect_uris[0]
    return {"launches": launches, "redirect_uri": redirect_uri}


def launch_step(inst: Installation) -> common.Step:
    """Full launches, each the next student's."""
    students = [(c.encode(), p.encode()) for c, p in inst.data["launches"]]
    redirect_uri = quote(inst.data["redirect_uri"], safe="").encode()
    turn = itertools.count()

    async def step(conn: Connection) -> common.Reply:
        cookie, path = students[next(turn) % len(students)]
        return await common.launch(conn, cookie, path, redirect_uri)

    return step


def profile(count: int, launches: list[list[str]], redirect_uri: str) -> None:
    """(Django) Where a launch's CPU goes, through the product's WSGI application."""
    app = common.Wsgi()
    turn = itertools.count()
    quoted = quote(redirect_uri, safe="").encode()

    def one_launch() -> None:
        cookie, path = launches[next(turn) % len(launches)]
        status, headers, _ = app("GET", path, {"Cookie": cookie})
        assert status == 302, status
        step2 = common.authorize_path(headers["Location"].encode(), quoted).decode()
        status, _, body = app("GET", step2, {"Cookie": cookie})
        assert status == 200 and b'name="id_token"' in body, (status, body[:300])

    _, jwks_ms = common.per_call(lambda: app("GET", "/lti/jwks"), count)
    print(f"GET /lti/jwks through every middleware, no DB (the floor): {jwks_ms:.2f} ms CPU")
    common.profile("a full launch (2 requests)", one_launch, count)
    warm_steps(app, launches, quoted)


def warm_steps(app: common.Wsgi, launches: list[list[str]], quoted: bytes) -> None:
    """(Django) The SQL of each step of one launch with the caches warm (the profile's list is
    the first launch's, with cold caches): the last student's, of an already launched class."""
    cookie, path = launches[-1]
    _, step1_ms = common.per_call(lambda: app("GET", path, {"Cookie": cookie}), 100)
    print(f"\nGET /lti/launch/… alone (step 1, repeatable): {step1_ms:.2f} ms CPU")
    with common.recording_sql() as step1:
        status, headers, _ = app("GET", path, {"Cookie": cookie})
    assert status == 302, status
    step2_path = common.authorize_path(headers["Location"].encode(), quoted).decode()
    with common.recording_sql() as step2:
        status, _, body = app("GET", step2_path, {"Cookie": cookie})
    assert status == 200 and b'name="id_token"' in body, (status, body[:300])
    for what, sql in (("GET /lti/launch/…", step1), ("GET /lti/authorize?…", step2)):
        print(f"\n{what}, warm caches: {len(sql)} SQL statements")
        print("\n".join(f"  {statement[:140]}" for statement in sql))


def _bare_sign(id_token: str) -> Callable[[], object]:
    """An RS256 sign of the id_token's payload with a loaded key of the same size (and kid)."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    kid = jwt.get_unverified_header(id_token)["kid"]
    payload = jwt.decode(id_token, options={"verify_signature": False})
    bits = 8 * len(base64.urlsafe_b64decode(id_token.rsplit(".", 1)[1] + "=="))
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return lambda: jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def bare_sign_ms(id_token: str, chunks: int, count: int) -> list[float]:
    """(Django, in the installation's environment: ``--rsa``) The median wall ms of each of
    ``chunks`` runs of ``count`` bare signs in a row, half a second apart (the servers stopped)."""
    sign = _bare_sign(id_token)
    medians = []
    for chunk in range(chunks):
        if chunk:
            time.sleep(0.5)
        walls, _ = common.per_call(sign, count)
        medians.append(statistics.median(walls))
    return medians


def run_topologies(
    inst: Installation, topologies: list[Topology], args: argparse.Namespace
) -> list[tuple[str, LoadResult]]:
    """Start (and warm up) every server, then give each ``seconds / rounds`` of load in turn,
    ``rounds`` times, so that background noise hits them alike."""
    results = {t.name: LoadResult() for t in topologies}
    fresh = args.connections == "per-launch"
    load = functools.partial(common.measure, step=launch_step(inst), fresh=fresh)
    load = functools.partial(load, concurrency=args.concurrency, cap=args.launches)

    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(common.serve(inst, t)) for t in topologies]
        for server in servers:
            warm = load(server, seconds=args.warmup)
            print(
                f"  started {server.topology.name} ({server.topology.label}) on port "
                f"{server.port}; warm-up {warm.ok} launches, errors {dict(warm.errors) or 0}",
                flush=True,
            )
        for round_no in range(args.rounds):
            common.wait_for_quiet(args.quiet_wait)
            print(f"round {round_no + 1}/{args.rounds}:", flush=True)
            for server in servers:
                part = load(server, seconds=args.seconds / args.rounds)
                results[server.topology.name].add(part)
                common.report(server.topology.name, part)
    for t in topologies:
        common.report(f"{t.name} ({t.label})", results[t.name])
    return [(t.name, results[t.name]) for t in topologies]


def main() -> None:
    parser = common.arguments(__doc__, students=2000, quiet_wait=10.0)
    parser.add_argument("--compare", action="store_true", help=f"run {COMPARE}")
    parser.add_argument("--topologies", help="comma-separated list for --compare")
    parser.add_argument("--launches", type=int, default=1_000_000, help="cap per window")
    parser.add_argument(
        "--connections",
        choices=["per-launch", "persistent"],
        default="per-launch",
        help="a new connection per launch (each student's browser; default) or one per client",
    )
    parser.add_argument("--rounds", type=int, default=0, help="default: 4 with --compare, else 1")
    parser.add_argument("--sign-samples", type=int, default=200, help="bare signs per run")
    args = parser.parse_args()
    try:
        names = (args.topologies or COMPARE).split(",") if args.compare else [args.topology.name]
        topologies = [common.topology(name) for name in names]
    except ValueError as exc:
        parser.error(str(exc))
    args.rounds = args.rounds or (4 if len(topologies) > 1 else 1)
    if not (1 <= args.concurrency <= 1024 and 0 < args.seconds <= 600 and 1 <= args.rounds <= 20):
        parser.error("--concurrency must be 1..1024, --seconds 0..600 and --rounds 1..20")
    with common.installation("bench.launch_flow:populate", args, students=args.students) as inst:
        if args.profile:
            inst.call("bench.launch_flow:profile", quiet=False, count=args.profile, **inst.data)
            return
        results = run_topologies(inst, topologies, args)
        inst.keep = inst.keep or any(r.errors for _, r in results)
        token = next((r.sample for _, r in results if r.sample), b"")
        if not token:
            sys.exit("no launch succeeded")
        chunks = inst.call(
            "bench.launch_flow:bare_sign_ms",
            id_token=token.decode(),
            chunks=SIGN_CHUNKS,
            count=args.sign_samples,
        )
    sign_ms = min(chunks)
    print(
        f"\nbare RS256 sign of the same id_token payload ({len(token)} chars), loaded key of the "
        f"same size, RSA {args.rsa}, servers stopped: medians of {SIGN_CHUNKS} runs of "
        f"{args.sign_samples} in a row {', '.join(f'{ms:.3f}' for ms in chunks)} ms; the unit "
        f"below is the fastest ({sign_ms:.3f} ms: a slower run is the machine, not the sign)\n\n"
        f"{args.concurrency} concurrent clients, connection {args.connections}, "
        f"{args.seconds:.0f} s per topology\n"
    )
    common.print_table("topology", "launches/s", "launch", results, sign_ms)
    print(
        f"\ntargets: ≥ {TARGET_RATE} launches/s with p99 < {TARGET_P99_MS:.0f} ms; server CPU per "
        f"launch ≤ {TARGET_SIGNS:.0f}× one bare sign (issue 6)"
    )
    for name, r in results:
        rate = r.rate >= TARGET_RATE and r.percentile(0.99) < TARGET_P99_MS and not r.errors
        cpu = r.server_ms <= TARGET_SIGNS * sign_ms
        print(
            f"  {name}: rate/p99 {'met' if rate else 'missed'}; CPU {r.server_ms / sign_ms:.1f}× "
            f"a bare sign: {'met' if cpu else 'missed'}"
        )


if __name__ == "__main__":
    main()
