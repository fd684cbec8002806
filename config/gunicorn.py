"""gunicorn's configuration: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be changed from the environment (`GUNICORN_*`, `WEB_CONCURRENCY`), none needs
to be. The access log names the method, the path without its query string (a query may carry a
name or a phone number being searched for), the status, the size, the time taken and the
request id, never the client's headers.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    number = int(value)  # a typo stops the server instead of being read as the default
    if number < 1:
        raise ValueError(f"{name} must be at least 1.")
    return number


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request holds a worker, and a worker's database connection is its own.
# gunicorn's own advice, 2 x cores + 1, bounded so a large host does not exhaust PostgreSQL's
# connections (each worker keeps one open: DATABASE_CONN_MAX_AGE).
workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 12))
worker_class = "sync"
# A request still running after this is killed and its worker replaced; the money POSTs'
# Idempotency-Key claims assume no request outlives it (funds/idempotency.py).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM or SIGHUP a worker finishes the request it is serving, for up to this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Each worker is replaced, gracefully, after this many requests (spread by the jitter so they do
# not all restart at once): a slow leak never grows for ever.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Heartbeat files in memory, not on a disk that may stall (gunicorn's own advice in containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# %(U)s is the path without the query string; the request id comes from the response header.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
# The address of the proxy in front is in TRUSTED_PROXY_COUNT (the app reads X-Forwarded-For
# itself); gunicorn's own forwarding logic stays off.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = "127.0.0.1"
