"""Downloads through the E-Akte against nginx serving the same files (issue 19).

Starts a real `eakte serve` (filesystem store, SQLite) and an nginx (Debian packages nginx,
libnginx-mod-http-ndk, libnginx-mod-http-set-misc, libnginx-mod-http-js; `sendfile on`, no
access log, `pcre_jit on`, the shipped deploy/nginx/ configuration) on loopback, stores one
large file (default 1 GiB) and many small ones (default
1,000 × 100 KiB) through the API and gives nginx the same bytes as plain files. Then, with the
same client (curl, one connection per run, keep-alive), in one run:

- nginx direct: the plain files (the baseline);
- API streaming: `GET …/versions/1/content` with a bearer token, each file a Python request;
- signed links: one bulk `POST …/documents/download-links`, then curl fetches the links from
  nginx, which checks each signature (HMAC-SHA256 in C, set-misc) and sends the file from
  the store (sendfile).

nginx and curl run on one CPU (`--cpu`, default 0; the E-Akte on the others): one request at
a time over one connection is a ping-pong, and on two cores its rate depended on whether the
scheduler put the two processes on the same core (runs differed by 2× for the same
configuration).

Prints MiB/s and files/s, the ratio to nginx direct (target ≥ 0.8; for links once with and
once without the bulk call's time) and the E-Akte server's peak RSS growth (target: constant
memory, below 64 MiB).

    python bench/downloads.py [--large-mib 1024] [--small-count 1000] [--small-kib 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
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

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
import nginx_support  # noqa: E402

from eakte.auth.tokens import issue_token  # noqa: E402
from eakte.config import Settings  # noqa: E402

console = Console(stderr=True)
LINK_SECRET = "bench-download-link-secret-" + "Zr8Kp2Wq5Xm9Tn4Lv7Hb3Jd6"


CPU: int | None = 0  # where curl and nginx run (--cpu)


def curl(urls: list[str], headers: list[str]) -> tuple[float, int]:
    """Fetch `urls` one after another over one connection; (seconds, bytes received)."""
    config = "".join(f'url = "{url}"\noutput = "/dev/null"\n' for url in urls)
    args = [CURL, "-sS", "--fail", "-K", "-", "-w", "%{size_download}\n"]
    for header in headers:
        args += ["-H", header]
    start = time.perf_counter()
    out = subprocess.run(
        args,
        input=config,
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=nginx_support.on_cpu(CPU),
    ).stdout
    seconds = time.perf_counter() - start
    return seconds, sum(int(line) for line in out.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--small-count", type=int, default=1000)
    parser.add_argument("--small-kib", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--cpu", type=int, default=0, help="CPU of curl and nginx (-1: any)")
    args = parser.parse_args()
    global CPU
    CPU = None if args.cpu < 0 else args.cpu
    if CURL is None or not nginx_support.available():
        console.print(
            f"[red]curl and nginx with its modules are needed: {nginx_support.INSTALL_HINT}[/red]"
        )
        return 2
    large_size = args.large_mib * MiB
    small_size = args.small_kib * 1024
    with tempfile.TemporaryDirectory(prefix="eakte-bench-dl-") as tmp:
        work = Path(tmp)
        files = work / "nginx" / "files"
        files.mkdir(parents=True)
        console.print(f"making {args.large_mib} MiB and {args.small_count} × {args.small_kib} KiB")
        make_file(files / "large.pdf", large_size)
        make_file(files / "small.pdf", small_size)
        data_dir = work / "eakte"
        secret_file = work / "download-link-secret"
        secret_file.write_text(LINK_SECRET)
        port, nginx_port = free_port(), free_port()
        values = {
            "env": "dev",
            "data_dir": str(data_dir),
            "database_url": f"sqlite:///{data_dir / 'eakte.sqlite3'}",
            "jwt_secret": SECRET,
            "log_level": "warning",
            "storage": "filesystem",
            "download_link_secret_file": str(secret_file),
            "download_link_base_url": f"http://127.0.0.1:{nginx_port}/dl",
        }
        settings = Settings(**values)  # type: ignore[arg-type]
        env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
        env.update({f"EAKTE_{name.upper()}": value for name, value in values.items()})
        env["EAKTE_UPLOADS_PER_APPLICATION"] = str(args.small_count + 10)
        prepare_database(env, max_bytes=large_size + MiB)
        token = issue_token(settings, tenant=TENANT, sub="bench", roles=["clerk"], name="Bench")
        auth = [f"Authorization: Bearer {token}"]
        with (
            serve(env, port) as proc,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client,
            nginx_support.running(
                work / "nginx",
                nginx_port,
                cpu=CPU,
                objects=data_dir / "objects",
                secret_file=secret_file,
                static=data_dir / "objects",  # nginx direct serves the very same files
            ) as nginx_base,
        ):
            others = sorted(os.sched_getaffinity(0) - {CPU})
            if CPU is not None and others:  # the E-Akte off the CPU of the measured pair
                os.sched_setaffinity(proc.pid, others)
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
                return str(httpx.Response(200, content=out).json()["id"])

            def content_url(document: str) -> str:
                return f"{client.base_url}{documents}/{document}/versions/1/content"

            console.print("uploading through the API …")
            large_id = upload(files / "large.pdf")
            small_ids = []
            for i in range(args.small_count):
                small_ids.append(upload(files / "small.pdf"))
                if (i + 1) % 100 == 0:
                    console.print(f"  {i + 1}/{args.small_count} small files stored")
            large_url, small_urls = content_url(large_id), [content_url(d) for d in small_ids]
            # the object key of each document: the last part of its link (links.py, format 2)
            listed = client.post(
                f"{documents}/download-links", headers={"Authorization": f"Bearer {token}"}
            )
            listed.raise_for_status()
            keys = {i["document_id"]: i["url"].split("/", 8)[8] for i in listed.json()["items"]}
            nginx_large = f"{nginx_base}/files/{keys[large_id]}"
            nginx_small = [f"{nginx_base}/files/{keys[d]}" for d in small_ids]
            names = ("api", "nginx", "links", "links_with_call")
            best = {f"{n}_{size}": 0.0 for n in names for size in ("large", "small")}
            rss = dict.fromkeys(("api", "links"), 0.0)
            call_ms = float("inf")
            for run in range(args.repeat):
                console.print(f"run {run + 1}/{args.repeat}")
                seconds, got = curl([nginx_large], [])
                assert got == large_size, got
                best["nginx_large"] = max(best["nginx_large"], got / MiB / seconds)
                with RssSampler(proc.pid) as sampler:
                    seconds, got = curl([large_url], auth)
                assert got == large_size, got
                rss["api"] = max(rss["api"], sampler.growth_mib)
                best["api_large"] = max(best["api_large"], got / MiB / seconds)
                seconds, got = curl(nginx_small, [])
                assert got == small_size * args.small_count, got
                best["nginx_small"] = max(best["nginx_small"], args.small_count / seconds)
                seconds, got = curl(small_urls, auth)
                assert got == small_size * args.small_count, got
                best["api_small"] = max(best["api_small"], args.small_count / seconds)

                with RssSampler(proc.pid) as sampler:
                    start = time.perf_counter()
                    issued = client.post(
                        f"{documents}/download-links",
                        headers={"Authorization": auth[0].split(": ", 1)[1]},
                    )
                    call = time.perf_counter() - start
                    issued.raise_for_status()
                    items = issued.json()["items"]
                    assert len(items) == args.small_count + 1, len(items)
                    call_ms = min(call_ms, call * 1000)
                    seconds, got = curl([items[0]["url"]], [])
                    assert got == large_size, got
                    best["links_large"] = max(best["links_large"], got / MiB / seconds)
                    best["links_with_call_large"] = max(
                        best["links_with_call_large"], got / MiB / (seconds + call)
                    )
                    seconds, got = curl([item["url"] for item in items[1:]], [])
                    assert got == small_size * args.small_count, got
                rss["links"] = max(rss["links"], sampler.growth_mib)
                best["links_small"] = max(best["links_small"], args.small_count / seconds)
                best["links_with_call_small"] = max(
                    best["links_with_call_small"], args.small_count / (seconds + call)
                )
    table = Table(title="Downloads: E-Akte vs nginx direct (same files, same client: curl)")
    for column in ("download", "path", "throughput", "/ nginx", "target", "E-Akte RSS growth"):
        table.add_column(column)
    rows = (
        ("nginx", "nginx direct (plain files)", ""),
        ("api", "API streaming (bearer token, Python per file)", f"{rss['api']:.1f} MiB"),
        ("links", "signed links via nginx, fetch only", f"{rss['links']:.1f} MiB"),
        ("links_with_call", f"signed links incl. the bulk call ({call_ms:.0f} ms)", ""),
    )
    for size, label, unit in (
        ("large", f"1 × {args.large_mib} MiB", "MiB/s"),
        ("small", f"{args.small_count} × {args.small_kib} KiB", "files/s"),
    ):
        for name, path, memory in rows:
            value = best[f"{name}_{size}"]
            ratio = value / best[f"nginx_{size}"]
            target = "" if name == "nginx" else f"≥ {RATIO_TARGET}"
            table.add_row(label, path, f"{value:.0f} {unit}", f"{ratio:.2f}", target, memory)
    Console(width=160).print(table)
    console.print(f"RSS target: growth below {RSS_TARGET_MIB} MiB (constant memory)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
