"""Statements accepted per second at the portal's LRS endpoint (``POST /xapi/statements``).

In a throw-away installation (bench/common.py: migrate, seed_demo) the bench gives the demo
drill (``demo-drill``, placed in both demo schools) LRS credentials (``issue_credential``) and
its board an active LRS, so that every statement also writes its forwarding row. It then calls
the product's WSGI application (``config.wsgi``) in-process, as a gunicorn worker calls it
(persistent database connection): POSTs of batches of ``--batch`` statements and POSTs of
single statements, each statement with a fresh id, about one of the demo students, with a
result, a context registration and context activities (the shape of the vendor sample). Only
200 counts, and the database must hold exactly the statements answered. For scale, it times
bare ``validate_statement`` on the same statements: the ratio says what the endpoint costs
beyond validation (authentication, the actor's scope, the insert, the forwarding rows).

One process on one core: a 2-core machine serves about twice this with two workers
(``config/gunicorn.conf.py``) as long as the single SQLite writer keeps up.

    .venv/bin/python -m bench.xapi_accept                  # batches of 50 and singles, ~1 min
    .venv/bin/python -m bench.xapi_accept --batch 200 --seconds 20
"""

from __future__ import annotations

import argparse
import base64
import json
import time
import uuid
from typing import Any

from bench import common

TOOL_SLUG = "demo-drill"
TARGET_RATE = 1000  # statements per second


def populate() -> dict[str, Any]:
    """(Django) Credentials for the drill, an LRS for its board, the students it may name."""
    from roster.models import RosterRole, User
    from studylog.lrs.auth import issue_credential
    from studylog.models import LrsEndpoint
    from tools_registry.models import Registration

    registration = Registration.objects.get(tool__slug=TOOL_SLUG)
    credential, secret = issue_credential(registration=registration, label="bench")
    students = list(
        User.objects.filter(role=RosterRole.STUDENT, is_active=True, home_class__isnull=False)
        .select_related("home_class__school__parent")
        .order_by("pk")
    )
    boards = {s.home_class.school.parent for s in students if s.home_class is not None}
    for board in boards:
        if board is None:
            continue
        LrsEndpoint.objects.create(board=board, name="bench LRS", url="http://127.0.0.1:9/xapi/")
    return {
        "auth": "Basic " + base64.b64encode(f"{credential.key}:{secret}".encode()).decode(),
        "students": [str(s.eportal_uuid) for s in students],
    }


def make_statement(student: str, n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://drill.example", "name": student},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"ja": "答えた"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://drill.example/units/{n % 40}/questions/{n % 7}",
            "definition": {
                "name": {"ja": "たしざん"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            },
        },
        "result": {
            "score": {"scaled": 0.8, "raw": 4, "min": 0, "max": 5},
            "success": True,
            "duration": "PT35.2S",
        },
        "context": {
            "registration": str(uuid.uuid4()),
            "contextActivities": {
                "parent": [{"id": f"https://drill.example/units/{n % 40}"}],
                "category": [{"id": "https://w3id.org/xapi/jpedudataspec/v/1"}],
            },
            "extensions": {"https://w3id.org/japan-xapi/extensions/grade": "P5"},
        },
        "timestamp": "2026-12-02T03:40:00.123+09:00",
    }


def measure(auth: str, students: list[str], batch: int, seconds: float) -> dict[str, Any]:
    """(Django) POST batches, then singles, each for ``seconds``; then bare validation."""
    from studylog.models import Statement
    from studylog.xapi.validation import validate_statement

    app = common.Wsgi()
    headers = {
        "Authorization": auth,
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }
    counter = 0

    def bodies(size: int) -> list[dict[str, Any]]:
        nonlocal counter
        made = []
        for _ in range(size):
            made.append(make_statement(students[counter % len(students)], counter))
            counter += 1
        return made

    results: dict[str, Any] = {}
    for label, size in (("batch", batch), ("single", 1)):
        # warm-up (the actor cache, the first connection), not counted
        for _ in range(3):
            status, _, reply = app(
                "POST", "/xapi/statements", headers, json.dumps(bodies(size)).encode()
            )
            assert status == 200, (status, reply[:300])
        accepted, requests, cpu = 0, 0, 0.0
        deadline = time.perf_counter() + seconds
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while time.perf_counter() < deadline:
            sent = bodies(size)
            body = json.dumps(sent if size > 1 else sent[0]).encode()
            status, _, reply = app("POST", "/xapi/statements", headers, body)
            assert status == 200, (status, reply[:300])
            accepted += len(json.loads(reply))
            requests += 1
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        results[label] = {
            "statements": accepted,
            "requests": requests,
            "per_second": accepted / wall,
            "cpu_ms_per_statement": 1000 * cpu / accepted,
        }
    stored = Statement.objects.count()
    assert stored == counter, (stored, counter)  # every 200 stored, nothing else
    sample = bodies(2000)
    t0 = time.process_time()
    rounds = 0
    while time.process_time() - t0 < min(seconds, 5.0):
        for statement in sample:
            validate_statement(statement)
        rounds += 1
    results["validate_per_second"] = rounds * len(sample) / (time.process_time() - t0)
    results["stored"] = stored
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=50, help="statements per batch POST")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window per mode")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    if not 2 <= args.batch <= 1000 or not 1 <= args.seconds <= 600:
        parser.error("--batch must be 2..1000 and --seconds 1..600")
    with common.installation("bench.xapi_accept:populate", args) as inst:
        result = inst.call(
            "bench.xapi_accept:measure", batch=args.batch, seconds=args.seconds, **inst.data
        )
    validate = result["validate_per_second"]
    print(
        f"\nPOST /xapi/statements in-process (config.wsgi, one process), {args.seconds:g} s "
        f"per mode; {result['stored']} statements stored in all\n\n"
        "| mode | statements | requests | statements/s | CPU ms/statement | "
        "share of bare validation |\n|---|---:|---:|---:|---:|---:|"
    )
    for label, name in (("batch", f"batches of {args.batch}"), ("single", "single")):
        r = result[label]
        print(
            f"| {name} | {r['statements']} | {r['requests']} | {r['per_second']:.0f} "
            f"| {r['cpu_ms_per_statement']:.3f} | {r['per_second'] / validate:.1%} |"
        )
    print(f"\nbare validate_statement: {validate:.0f} statements/s (one core)")
    verdict = "meets" if result["batch"]["per_second"] >= TARGET_RATE else "misses"
    print(f"batches {verdict} the target of {TARGET_RATE} statements/s")


if __name__ == "__main__":
    main()
