"""gunicorn settings for throughput mode (override with env vars).

Chosen by measurement (bench/launch_flow.py, bench/services.py, docs/benchmarks.md): the
launch and score paths are CPU-bound, so one worker process per core; **sync** workers, which
measured best on both: full launches 329/s with p99 121 ms (gthread, one thread: 320/s, p99
222 ms), score POSTs 587/s with p99 69 ms. Sync workers must sit behind a buffering reverse
proxy (nginx — which TLS needs anyway): a slow client would otherwise hold a worker. Exposed
directly, use MANABI_WORKER_CLASS=gthread (keep-alive; MANABI_THREADS, default 1 — more threads
per process contend for the GIL and SQLite's writer lock: 2 threads gave 622 score POSTs/s
with p99 113 ms, 4 threads 544/s with p99 128 ms). A request waiting on the network (a tool's
slow JWKS URL, up to ~8 s) holds its worker: raise MANABI_WORKERS/MANABI_THREADS if tools are
slow, and never serve the demo tools from these workers (their AGS calls come back into the
server; the demo uses scripts/serve.sh).
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
worker_class = os.environ.get("MANABI_WORKER_CLASS", "sync")
threads = int(os.environ.get("MANABI_THREADS", "1"))
keepalive = 5
accesslog = os.environ.get("MANABI_ACCESS_LOG") or None
