"""The physical ceiling: a static file server handing out the same bytes the catalog computes.

nginx (Debian's `nginx` package) when installed: started in the foreground with its own config,
pid file, logs and temp folders in a scratch folder, on a loopback port, so it needs neither
root nor the system's configuration. Without nginx, the fastest fallback at hand: gunicorn with a
WSGI app that answers from the files read into memory at start. `server.name` says which ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import requests

HERE = Path(__file__).parent
NGINX_CONF = """\
{user}worker_processes {workers};
pid {scratch}/nginx.pid;
error_log {scratch}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {scratch}/body;
    proxy_temp_path {scratch}/proxy;
    fastcgi_temp_path {scratch}/fastcgi;
    uwsgi_temp_path {scratch}/uwsgi;
    scgi_temp_path {scratch}/scgi;
    types {{ application/json json; text/xml xml; image/png png; text/plain txt; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


class StaticServer:
    """Serve `root` on 127.0.0.1:`port` until `stop()`; files written under `root` are served as is."""

    def __init__(self, root: Path, scratch: Path, port: int, workers: int = 2):
        self.root, self.port = root, port
        self.base = f"http://127.0.0.1:{port}"
        scratch.mkdir(parents=True, exist_ok=True)
        binary = nginx_binary()
        if binary:
            self.name = f"nginx {_nginx_version(binary)}, {workers} workers"
            conf = scratch / "nginx.conf"
            user = "user root;\n" if os.geteuid() == 0 else ""  # as root nginx would drop to `nobody`
            conf.write_text(NGINX_CONF.format(user=user, workers=workers, scratch=scratch, port=port, root=root))
            command = [binary, "-p", str(scratch), "-c", str(conf), "-e", str(scratch / "error.log"),
                       "-g", "daemon off;"]
        else:
            self.name = f"gunicorn serving files from memory ({workers} workers; nginx not installed)"
            command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                       "bench.static_wsgi:app"]
        env = {**os.environ, "BENCH_STATIC_ROOT": str(root)}
        self.process = subprocess.Popen(command, cwd=HERE.parent, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the static server ({self.name}) exited during start-up")
            try:
                requests.get(self.base + "/", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit(f"the static server ({self.name}) did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _nginx_version(binary: str) -> str:
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    return (result.stderr or result.stdout).strip().split("/")[-1] or "?"
