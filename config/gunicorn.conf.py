"""gunicorn settings for the demo and single-machine deployments (override with env vars)."""

import multiprocessing
import os

bind = os.environ.get("MANABI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MANABI_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = os.environ.get("MANABI_WORKER_CLASS", "gthread")
threads = int(os.environ.get("MANABI_THREADS", "4"))
keepalive = 5
accesslog = os.environ.get("MANABI_ACCESS_LOG") or None
