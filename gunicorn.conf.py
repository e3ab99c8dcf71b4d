"""gunicorn defaults for `gunicorn wsgi:app`: loopback, one worker per core plus one."""

import multiprocessing

bind = "127.0.0.1:8000"
workers = multiprocessing.cpu_count() + 1
timeout = 60
