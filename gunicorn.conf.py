"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Everything comes from the environment, so one file serves containers, systemd and tests:
GUNICORN_BIND (default 127.0.0.1:8000; a container binds 0.0.0.0:8000), WEB_CONCURRENCY
(worker processes, default 2 x cores + 1, at most 8), GUNICORN_THREADS (threads per worker, 4),
GUNICORN_TIMEOUT (seconds a request may take, 120: CSV exports of large groups stream for a
while) and GUNICORN_GRACEFUL_TIMEOUT (30).
The app writes its own one-JSON-line-per-request log (dashboard/request_log.py), so gunicorn's
access log is off; its error log goes to stderr.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
# Threads let one worker keep serving while another request waits on TensorBoard's proxy.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5
# The app is imported in each worker after the fork: no database connection is ever shared.
preload_app = False
# Behind a reverse proxy on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "dashboard-web"
