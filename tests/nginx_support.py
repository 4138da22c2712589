"""A real nginx (Debian packages nginx + libnginx-mod-http-js) with the shipped download-link
configuration (deploy/nginx/), for the tests and bench/downloads.py (issue 19)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
JS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")
INSTALL_HINT = "apt-get install -y nginx libnginx-mod-http-js curl"


def available() -> bool:
    """True when nginx and its njs module are installed."""
    return Path(NGINX).exists() and JS_MODULE.exists()


def config(
    root: Path, port: int, *, objects: Path, secret_file: Path, static: Path | None = None
) -> str:
    """nginx.conf: deploy/nginx/eakte-downloads.conf with this machine's paths, and
    optionally `static` served as plain files (the bench's baseline)."""
    snippet = (DEPLOY / "eakte-downloads.conf").read_text()
    snippet = snippet.replace("/etc/eakte/download-link-secret", str(secret_file))
    snippet = snippet.replace("/var/lib/eakte/objects/", f"{objects}/")
    user = pwd.getpwuid(os.getuid()).pw_name  # the store's files are 0640 of this user
    plain = (
        f"location /files/ {{ alias {static}/; default_type application/pdf; }}" if static else ""
    )
    return f"""
load_module {JS_MODULE};
worker_processes 1;
daemon off;
{"user " + user + ";" if os.getuid() == 0 else ""}
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    js_path {DEPLOY}/;
    js_import eakte_dl from eakte-downloads.js;
    js_set $eakte_dl_status eakte_dl.status;
    js_set $eakte_dl_key eakte_dl.key;
    js_set $eakte_dl_problem eakte_dl.problem;
    js_set $eakte_dl_type eakte_dl.type;
    js_set $eakte_dl_disposition eakte_dl.disposition;
    js_set $eakte_dl_problem_type eakte_dl.problemType;
    js_set $eakte_dl_language eakte_dl.language;
    server {{
        listen 127.0.0.1:{port};
        {plain}
        {snippet}
    }}
}}
"""


@contextmanager
def running(root: Path, port: int, **kwargs: Path | None) -> Iterator[str]:
    """nginx on `port` until the block ends; yields its base URL."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(config(root, port, **kwargs))  # type: ignore[arg-type]
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(root)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/dl/x", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    assert proc.stderr is not None
                    raise RuntimeError(f"nginx exited: {proc.stderr.read().decode()}") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
