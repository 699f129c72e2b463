"""The student's home page ("/") for a student enrolled in 1, 5 and 20 classes.

The bench builds a throw-away installation (bench/common.py: migrate, seed_demo), adds 19
scheduled classes to the demo school B113210000010, places a bench tool in each of them with
``manage.py register_tool`` (so that each class brings its own tile, as a subject class's tool
does) and adds, per size, a student whose homeroom is 5-2 and who is enrolled in the first
``n - 1`` extra classes, signed in by Django's login. It then calls the product's WSGI
application (``config.wsgi``) in-process, as a gunicorn worker calls it (persistent database
connection, as config/gunicorn.conf.py sets it), and prints per size the tiles on the page,
the SQL statements per request (Django's execute_wrapper) and the median wall and mean CPU ms
per request.

    .venv/bin/python -m bench.home                         # 1, 5 and 20 classes, 200 requests
    .venv/bin/python -m bench.home --classes 1,5,20,40 --requests 500 --show-sql
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from bench import common

SCHOOL, HOMEROOM, TOOL_SLUG = "B113210000010", "5-2", "bench-home"


def populate(sizes: list[int]) -> dict[str, Any]:
    """(Django) The extra classes, the tool placed in each, a signed-in student per size."""
    from django.db import transaction

    from roster.models import SchoolClass

    homeroom = SchoolClass.objects.get(school__identifier=SCHOOL, class_code=HOMEROOM)
    extra = common.add_classes(homeroom, [f"bench-{i:02d}" for i in range(1, max(sizes))])
    if extra:
        common.register_tool(TOOL_SLUG, extra, jwks_url=f"https://{TOOL_SLUG}.example/jwks")
    with transaction.atomic():
        users = common.add_students("bench-home-", [[homeroom, *extra[: n - 1]] for n in sizes])
        return {"students": list(zip(sizes, common.sign_in(users), strict=True))}


def measure(students: list[list[Any]], requests: int, show_sql: bool) -> list[str]:
    """(Django) GET / for each student through the product's WSGI application; table rows."""
    app = common.Wsgi()
    rows = []
    for classes, cookie in students:

        def home(cookie: str = cookie) -> bytes:
            status, _, body = app("GET", "/", {"Cookie": cookie})
            assert status == 200, (status, body[:300])
            return body

        counts = []
        for _ in range(5):  # the count of one request, checked on five
            with common.recording_sql() as sql:
                tiles = home().count(b"/lti/launch/")
            counts.append(len(sql))
        walls, cpu_ms = common.per_call(home, requests)
        if show_sql:
            print(f"\n{classes} classes: {len(sql)} SQL statements per request")
            print("\n".join(f"  {statement[:140]}" for statement in sql))
        queries = f"{min(counts)}" + (f"–{max(counts)}" if max(counts) > min(counts) else "")
        rows.append(
            f"| {classes} | {tiles} | {queries} | {statistics.median(walls):.2f} "
            f"| {statistics.quantiles(walls, n=10)[-1]:.2f} | {cpu_ms:.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--classes", default="1,5,20", help="comma-separated class counts")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per size")
    parser.add_argument("--show-sql", action="store_true", help="print the statements")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    try:
        sizes = [int(n) for n in args.classes.split(",")]
    except ValueError:
        parser.error("--classes takes whole numbers")
    if not all(1 <= n <= 200 for n in sizes) or not 10 <= args.requests <= 100_000:
        parser.error("--classes must be 1..200 and --requests 10..100000")

    with common.installation("bench.home:populate", args, sizes=sizes) as inst:
        rows = inst.call(
            "bench.home:measure",
            quiet=not args.show_sql,
            requests=args.requests,
            show_sql=args.show_sql,
            **inst.data,
        )
    print(
        f"\nGET / as a student, in-process (config.wsgi), {args.requests} requests per size\n\n"
        "| classes | tiles | SQL statements/request | median ms | p90 ms | CPU ms/request |\n"
        "|---:|---:|---:|---:|---:|---:|"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
