"""A real nginx (Debian packages nginx, libnginx-mod-http-set-misc, libnginx-mod-http-ndk,
libnginx-mod-http-js) with the shipped download-link configuration (deploy/nginx/), for the
tests and bench/downloads.py (issue 19)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from eakte.documents import links

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MODULES = Path("/usr/lib/nginx/modules")
NEEDED = ("ndk_http_module.so", "ngx_http_set_misc_module.so", "ngx_http_js_module.so")
INSTALL_HINT = (
    "apt-get install -y nginx libnginx-mod-http-ndk libnginx-mod-http-set-misc "
    "libnginx-mod-http-js curl"
)


def available() -> bool:
    """True when nginx and the modules the download-link check needs are installed."""
    return Path(NGINX).exists() and all((MODULES / name).exists() for name in NEEDED)


def config(
    root: Path,
    port: int,
    *,
    objects: Path,
    secret_file: Path | None = None,
    key_file: Path | None = None,
    static: Path | None = None,
) -> str:
    """nginx.conf: deploy/nginx/eakte-downloads*.conf with this machine's paths, the key file
    `eakte download-links nginx-key` wrote (or, from `secret_file`, the same text), and
    optionally `static` served as plain files (the bench's baseline)."""
    if key_file is None:
        assert secret_file is not None, "nginx needs the key file or the secret"
        key_file = root / "download-link-key.conf"
        key_file.write_text(links.nginx_key_config(secret_file.read_text().strip().encode()))
    snippet = (DEPLOY / "eakte-downloads.conf").read_text()
    snippet = snippet.replace("/var/lib/eakte/objects/", f"{objects}/")
    user = pwd.getpwuid(os.getuid()).pw_name  # the store's files are 0640 of this user
    plain = (
        f"location /files/ {{ alias {static}/; default_type application/pdf; }}" if static else ""
    )
    return f"""
{"".join(f"load_module {MODULES / name};" for name in NEEDED)}
worker_processes 1;
pcre_jit on;
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
    include {key_file};
    include {DEPLOY / "eakte-downloads-http.conf"};
    js_path {DEPLOY}/;
    js_import eakte_dl from eakte-downloads.js;
    server {{
        listen 127.0.0.1:{port};
        {plain}
        {snippet}
    }}
}}
"""


def on_cpu(cpu: int | None) -> Callable[[], None] | None:
    """A `preexec_fn` that keeps a child process on one CPU (None: anywhere)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


@contextmanager
def running(
    root: Path, port: int, *, cpu: int | None = None, **kwargs: Path | None
) -> Iterator[str]:
    """nginx on `port` until the block ends (on CPU `cpu` if given); yields its base URL."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(config(root, port, **kwargs))  # type: ignore[arg-type]
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(root)], stderr=subprocess.PIPE, preexec_fn=on_cpu(cpu)
    )
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
