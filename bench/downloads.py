"""Downloads through the documents API against nginx serving the same files (issue 19).

Starts a real `eakte serve` (filesystem store, SQLite) and an nginx (Debian package
`nginx-light`; `sendfile on`, no access log) on loopback, stores one large file (default
1 GiB) and many small ones (default 1,000 × 100 KiB) through the API and gives nginx the same
bytes, then fetches them with the same client (curl, one connection per run, keep-alive for
the small files). Prints MiB/s and files/s of both, the ratio (target: the API reaches at
least 0.8 of nginx) and the server's peak RSS growth during the large download (target:
constant memory, below 64 MiB).

    python bench/downloads.py [--large-mib 1024] [--small-count 1000] [--small-kib 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from upload import (  # noqa: E402  (bench/ is not a package)
    CASE,
    CURL,
    RATIO_TARGET,
    RSS_TARGET_MIB,
    SECRET,
    TENANT,
    MiB,
    RssSampler,
    free_port,
    make_file,
    prepare_database,
    serve,
)

from eakte.auth.tokens import issue_token  # noqa: E402
from eakte.config import Settings  # noqa: E402

console = Console(stderr=True)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_CONF = """
worker_processes 1;
daemon off;
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
    server {{
        listen 127.0.0.1:{port};
        root {root}/files;
        default_type application/pdf;
    }}
}}
"""


@contextmanager
def nginx(root: Path, port: int) -> Iterator[None]:
    """nginx serving `root/files` on `port` until the block ends."""
    (root / "tmp").mkdir(exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port))
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(root)], stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited: {proc.stderr.read().decode()}") from None
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def curl(urls: list[str], headers: list[str]) -> tuple[float, int]:
    """Fetch `urls` one after another over one connection; (seconds, bytes received)."""
    config = "".join(f'url = "{url}"\noutput = "/dev/null"\n' for url in urls)
    args = [CURL, "-sS", "--fail", "-K", "-", "-w", "%{size_download}\n"]
    for header in headers:
        args += ["-H", header]
    start = time.perf_counter()
    out = subprocess.run(args, input=config, capture_output=True, text=True, check=True).stdout
    seconds = time.perf_counter() - start
    return seconds, sum(int(line) for line in out.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--small-count", type=int, default=1000)
    parser.add_argument("--small-kib", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    if CURL is None or not Path(NGINX).exists():
        console.print("[red]curl and nginx are needed: apt-get install -y curl nginx-light[/red]")
        return 2
    large_size = args.large_mib * MiB
    small_size = args.small_kib * 1024
    with tempfile.TemporaryDirectory(prefix="eakte-bench-dl-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's workers run as an unprivileged user
        files = work / "nginx" / "files"
        files.mkdir(parents=True)
        console.print(f"making {args.large_mib} MiB and {args.small_count} × {args.small_kib} KiB")
        make_file(files / "large.pdf", large_size)
        make_file(files / "small.pdf", small_size)
        for i in range(args.small_count):
            os.link(files / "small.pdf", files / f"small-{i}.pdf")
        data_dir = work / "eakte"
        values = {
            "env": "dev",
            "data_dir": str(data_dir),
            "database_url": f"sqlite:///{data_dir / 'eakte.sqlite3'}",
            "jwt_secret": SECRET,
            "log_level": "warning",
            "storage": "filesystem",
        }
        settings = Settings(**values)  # type: ignore[arg-type]
        env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
        env.update({f"EAKTE_{name.upper()}": value for name, value in values.items()})
        env["EAKTE_UPLOADS_PER_APPLICATION"] = str(args.small_count + 10)
        prepare_database(env, max_bytes=large_size + MiB)
        token = issue_token(settings, tenant=TENANT, sub="bench", roles=["clerk"], name="Bench")
        auth = [f"Authorization: Bearer {token}"]
        port, nginx_port = free_port(), free_port()
        with (
            serve(env, port) as proc,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client,
            nginx(work / "nginx", nginx_port),
        ):
            case = client.post(
                "/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json=CASE
            )
            case.raise_for_status()
            documents = f"/api/v1/cases/{case.json()['id']}/documents"

            def upload(path: Path) -> str:
                command = [CURL, "-sS", "--fail", "-H", auth[0], "-F", "title=Plan"]
                command += ["-F", f"file=@{path};filename=plan.pdf", "-F", "kind=bauzeichnung"]
                command.append(f"{client.base_url}{documents}")
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                document = httpx.Response(200, content=out).json()
                return f"{client.base_url}{documents}/{document['id']}/versions/1/content"

            console.print("uploading through the API …")
            large_url = upload(files / "large.pdf")
            small_urls = []
            for i in range(args.small_count):
                small_urls.append(upload(files / "small.pdf"))
                if (i + 1) % 100 == 0:
                    console.print(f"  {i + 1}/{args.small_count} small files stored")
            nginx_large = f"http://127.0.0.1:{nginx_port}/large.pdf"
            nginx_small = [
                f"http://127.0.0.1:{nginx_port}/small-{i}.pdf" for i in range(args.small_count)
            ]
            best = dict.fromkeys(("api_large", "nginx_large", "api_small", "nginx_small"), 0.0)
            rss = 0.0
            for run in range(args.repeat):
                console.print(f"run {run + 1}/{args.repeat}")
                seconds, got = curl([nginx_large], [])
                assert got == large_size, got
                best["nginx_large"] = max(best["nginx_large"], got / MiB / seconds)
                with RssSampler(proc.pid) as sampler:
                    seconds, got = curl([large_url], auth)
                assert got == large_size, got
                rss = max(rss, sampler.growth_mib)
                best["api_large"] = max(best["api_large"], got / MiB / seconds)
                seconds, got = curl(nginx_small, [])
                assert got == small_size * args.small_count, got
                best["nginx_small"] = max(best["nginx_small"], args.small_count / seconds)
                seconds, got = curl(small_urls, auth)
                assert got == small_size * args.small_count, got
                best["api_small"] = max(best["api_small"], args.small_count / seconds)
    table = Table(title="Downloads: E-Akte API vs nginx (same files, same client: curl)")
    for column in ("download", "API", "nginx", "API / nginx", "target", "server RSS growth"):
        table.add_column(column)
    large_ratio = best["api_large"] / best["nginx_large"]
    small_ratio = best["api_small"] / best["nginx_small"]
    table.add_row(
        f"1 × {args.large_mib} MiB",
        f"{best['api_large']:.0f} MiB/s",
        f"{best['nginx_large']:.0f} MiB/s",
        f"{large_ratio:.2f}",
        f"≥ {RATIO_TARGET}",
        f"{rss:.1f} MiB (target < {RSS_TARGET_MIB})",
    )
    table.add_row(
        f"{args.small_count} × {args.small_kib} KiB",
        f"{best['api_small']:.0f} files/s",
        f"{best['nginx_small']:.0f} files/s",
        f"{small_ratio:.2f}",
        f"≥ {RATIO_TARGET}",
        "",
    )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
