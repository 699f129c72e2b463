"""gunicorn settings for the demo and single-machine deployments (override with env vars).

Defaults chosen by measurement (bench/launch_flow.py, docs/benchmarks.md "Launch flow"):
the launch path is CPU-bound, so one worker process per core (2 × cores gave the same
launches/s with more CPU per launch and a worse p99); gthread rather than sync because these
workers face browsers directly (no buffering proxy): threads ride out slow clients, idle
preconnects and the token endpoint's outbound JWKS fetch, and keep-alive is available.
Sync workers (one per core) measured ~5 % more launches/s and a much tighter p99: the choice
behind a buffering proxy such as nginx (MANABI_WORKER_CLASS=sync).

One thread per worker (measured after the launch and score paths were made cheaper,
docs/benchmarks.md): score POSTs 706/s with p99 66 ms at 1 thread against 622/s, p99 113 ms at
2 and 544/s, p99 128 ms at 4 — threads of one process contend for the GIL and SQLite's writer
lock — while launches were equal within noise (238, 233, 222/s). Raise MANABI_THREADS when a
request waits on the network (a tool's slow JWKS URL holds its worker up to ~8 s), and always
when the demo tools are served by these workers: their AGS calls come back into the server.
"""

import multiprocessing
import os

# Persistent database connections: each worker thread keeps its SQLite connection instead of
# opening one per request (measured in one run: 15.2 → 13.0 ms server CPU per launch and
# 121 → 139 launches/s with these defaults). Read by config.settings; MANABI_CONN_MAX_AGE=0
# turns it off.
os.environ.setdefault("MANABI_CONN_MAX_AGE", "600")

bind = os.environ.get("MANABI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MANABI_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = os.environ.get("MANABI_WORKER_CLASS", "gthread")
threads = int(os.environ.get("MANABI_THREADS", "1"))
keepalive = 5
accesslog = os.environ.get("MANABI_ACCESS_LOG") or None
