"""Upload/download throughput of the documents API against the object store underneath.

For each backend (the filesystem store; S3 on a local moto server) this starts a real
`eakte serve` (uvicorn) with a temporary data dir and SQLite, creates a case, uploads a
generated PDF-looking file of --size-mib through the API (multipart, streamed by httpx),
and downloads it again; the same bytes are also written and read directly through the
store (`put`/`open`) in this process. It prints MiB/s of both, their ratio (target: the
API reaches at least 0.8 of the store) and the server's peak RSS growth during each
transfer, sampled from /proc/<pid>/status (target: below 64 MiB).

    python bench/upload.py [--size-mib 256] [--backends filesystem,s3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import create_engine, text

from eakte.auth.tokens import issue_token
from eakte.config import Settings
from eakte.db import database_urls
from eakte.documents.store import build_store
from storage.testing import PatternStream, start_local_s3

MiB = 1024 * 1024
CHUNK = 1 * MiB
BOUNDARY = "eakte-bench-boundary-7f3a9c"
SECRET = "bench-secret-" + "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz"
TENANT = "augsburg"
RSS_TARGET_MIB = 64
CURL = shutil.which("curl")
RATIO_TARGET = 0.8

console = Console(stderr=True)
CASE = {
    "title": "Benchmark",
    "procedure": "baybo-59",
    "site": {"address": "Benchstraße 1, 86150 Augsburg"},
    "applicant": {"name": "Bench"},
}


@dataclass
class Result:
    backend: str
    operation: str
    api_mibs: float
    direct_mibs: float
    rss_growth_mib: float
    curl_mibs: float | None = None

    @property
    def ratio(self) -> float:
        return self.api_mibs / self.direct_mibs if self.direct_mibs else 0.0


def make_file(path: Path, size: int) -> str:
    """A file that libmagic calls application/pdf: a PDF header, then pattern bytes."""
    digest = hashlib.sha256()
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    body = PatternStream(size - len(head), seed=7)
    with open(path, "wb") as f:
        f.write(head)
        digest.update(head)
        while chunk := body.read(CHUNK):
            f.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def read_file(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


class RssSampler:
    """The peak growth of a process's resident set while the block runs.

    A thread samples VmRSS from /proc/<pid>/status; in addition the kernel's own
    high-water mark (VmHWM) is reset before (`echo 5 > /proc/<pid>/clear_refs`) and read
    after, so a short peak between two samples is not missed.
    """

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.baseline = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._hwm_reset = False

    def _status(self, field: str) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._status("VmRSS"))
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            self._hwm_reset = True
        except OSError:
            pass
        self.baseline = self.peak = self._status("VmRSS")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._status("VmRSS"))
        if self._hwm_reset:
            self.peak = max(self.peak, self._status("VmHWM"))

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MiB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run `eakte serve` until the block ends."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "eakte.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"eakte serve exited: {log.read()[-3000:].decode()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("eakte serve did not come up in 60 s")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def prepare_database(env: dict[str, str], max_bytes: int) -> None:
    """Migrate, seed the demo tenants and lift their upload limit for the big file."""
    for args in (["migrate"], ["seed-demo"]):
        subprocess.run(
            [sys.executable, "-m", "eakte.cli", *args], env=env, check=True, capture_output=True
        )
    engine = create_engine(database_urls(env["EAKTE_DATABASE_URL"]).sync_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE tenants SET max_upload_bytes = :n"), {"n": max_bytes})
    engine.dispose()


def multipart_stream(path: Path, size: int) -> tuple[Iterator[bytes], int]:
    """The multipart body (fields, then the file streamed from disk) and its length."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBench-Plan\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nbauzeichnung\r\n'
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
        f'name="file"; filename="bench.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from read_file(path)
        yield tail

    return body(), len(head) + size + len(tail)


def curl_upload(client: httpx.Client, documents: str, path: Path, token: str) -> float:
    """MiB/s of the same upload sent by curl (a C client: shows what the server can take)."""
    out = subprocess.run(
        [
            CURL,
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{speed_upload}",
            "-H",
            f"Authorization: Bearer {token}",
            "-F",
            f"file=@{path};filename=bench.pdf",
            "-F",
            "title=curl",
            "-F",
            "kind=bauzeichnung",
            f"{client.base_url}{documents}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if out[0] != "201":
        raise RuntimeError(f"curl upload failed: {out}")
    return float(out[1]) / MiB


def curl_download(client: httpx.Client, url: str, token: str) -> float:
    """MiB/s of the same download received by curl."""
    out = subprocess.run(
        [
            CURL,
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{speed_download}",
            "-H",
            f"Authorization: Bearer {token}",
            f"{client.base_url}{url}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if out[0] != "200":
        raise RuntimeError(f"curl download failed: {out}")
    return float(out[1]) / MiB


def run_backend(
    backend: str,
    store_settings: dict[str, str],
    path: Path,
    size: int,
    sha256: str,
    workdir: Path,
    repeat: int,
) -> list[Result]:
    """Upload and download `path` through a fresh server and directly; best of `repeat`."""
    data_dir = workdir / backend
    values = {
        "env": "dev",
        "data_dir": str(data_dir),
        "database_url": f"sqlite:///{data_dir / 'eakte.sqlite3'}",
        "jwt_secret": SECRET,
        "log_level": "warning",
        "storage": backend,
        **store_settings,
    }
    settings = Settings(**values)  # type: ignore[arg-type]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update({f"EAKTE_{name.upper()}": value for name, value in values.items()})
    prepare_database(env, max_bytes=size + MiB)
    token = issue_token(settings, tenant=TENANT, sub="bench", roles=["clerk"], name="Bench")
    headers = {"Authorization": f"Bearer {token}"}
    port = free_port()
    mib = size / MiB
    store = build_store(settings)
    best = dict.fromkeys(("api_up", "direct_up", "api_down", "direct_down"), 0.0)
    best |= {"curl_up": 0.0, "curl_down": 0.0}
    rss = {"up": 0.0, "down": 0.0}
    with (
        serve(env, port) as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client,
    ):
        case = client.post("/api/v1/cases", headers=headers, json=CASE)
        case.raise_for_status()
        documents = f"/api/v1/cases/{case.json()['id']}/documents"
        warm = client.post(
            documents,
            headers=headers,
            data={"title": "warm-up", "kind": "sonstiges"},
            files={"file": ("warm.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        )
        warm.raise_for_status()
        for _ in range(repeat):
            body, length = multipart_stream(path, size)
            with RssSampler(proc.pid) as up_rss:
                start = time.perf_counter()
                response = client.post(
                    documents,
                    content=body,
                    headers=headers
                    | {
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "Content-Length": str(length),
                    },
                )
                seconds = time.perf_counter() - start
            if response.status_code != 201:
                raise RuntimeError(f"upload failed: {response.status_code} {response.text}")
            document = response.json()
            if document["latest_version"]["sha256"] != sha256:
                raise RuntimeError("the stored sha256 differs from the file's")
            best["api_up"] = max(best["api_up"], mib / seconds)
            rss["up"] = max(rss["up"], up_rss.growth_mib)

            key = f"bench/{uuid.uuid4()}/{uuid.uuid4()}/{uuid.uuid4()}"
            with open(path, "rb") as f:
                start = time.perf_counter()
                store.put(key, f, None, "application/pdf")
                best["direct_up"] = max(best["direct_up"], mib / (time.perf_counter() - start))

            url = f"{documents}/{document['id']}/content"
            with RssSampler(proc.pid) as down_rss:
                start = time.perf_counter()
                got = 0
                with client.stream("GET", url, headers=headers) as stream:
                    stream.raise_for_status()
                    for chunk in stream.iter_raw():
                        got += len(chunk)
                seconds = time.perf_counter() - start
            if got != size:
                raise RuntimeError(f"downloaded {got} bytes, expected {size}")
            best["api_down"] = max(best["api_down"], mib / seconds)
            rss["down"] = max(rss["down"], down_rss.growth_mib)

            if CURL:
                best["curl_up"] = max(best["curl_up"], curl_upload(client, documents, path, token))
                best["curl_down"] = max(best["curl_down"], curl_download(client, url, token))

            start = time.perf_counter()
            got = 0
            with store.open(key) as reader:
                for chunk in reader:
                    got += len(chunk)
            best["direct_down"] = max(best["direct_down"], mib / (time.perf_counter() - start))
            store.delete(key)
    return [
        Result(backend, "upload", best["api_up"], best["direct_up"], rss["up"], best["curl_up"]),
        Result(
            backend,
            "download",
            best["api_down"],
            best["direct_down"],
            rss["down"],
            best["curl_down"],
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256, help="file size (default 256)")
    parser.add_argument("--backends", default="filesystem,s3", help="filesystem,s3")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement (best)")
    args = parser.parse_args()
    size = args.size_mib * MiB
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results: list[Result] = []
    with (
        ExitStack() as stack,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress,
    ):
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="eakte-bench-")))
        task = progress.add_task(f"generating a {args.size_mib} MiB file", total=None)
        path = workdir / "bench.pdf"
        sha256 = make_file(path, size)
        for backend in backends:
            progress.update(task, description=f"{backend}: upload and download")
            extra: dict[str, str] = {}
            if backend == "s3":
                progress.update(task, description="s3: starting a local moto server")
                endpoint = stack.enter_context(start_local_s3())
                extra = {
                    "s3_endpoint": endpoint,
                    "s3_access_key": "bench",
                    "s3_secret_key": "bench",
                    "s3_bucket": "eakte-bench",
                    "s3_region": "us-east-1",
                    "s3_secure": "false",
                }
                progress.update(task, description="s3: upload and download")
            results += run_backend(backend, extra, path, size, sha256, workdir, args.repeat)
        progress.update(task, description="done")

    table = Table(title=f"Documents API vs. direct ObjectStore, {args.size_mib} MiB file")
    for i, column in enumerate(
        ("backend", "operation", "API MiB/s", "store MiB/s", "ratio", "server RSS +", "curl MiB/s")
    ):
        table.add_column(column, justify="left" if i < 2 else "right")
    ok = True
    for r in results:
        ratio_ok = r.ratio >= RATIO_TARGET
        rss_ok = r.rss_growth_mib < RSS_TARGET_MIB
        ok = ok and ratio_ok and rss_ok
        table.add_row(
            r.backend,
            r.operation,
            f"{r.api_mibs:.0f}",
            f"{r.direct_mibs:.0f}",
            f"[{'green' if ratio_ok else 'red'}]{r.ratio:.2f}[/]",
            f"[{'green' if rss_ok else 'red'}]{r.rss_growth_mib:.1f} MiB[/]",
            f"{r.curl_mibs:.0f}" if r.curl_mibs else "–",
        )
    out = Console(width=110)
    out.print(table)
    out.print(
        f"targets: ratio (API via httpx / store) ≥ {RATIO_TARGET}, server RSS growth < "
        f"{RSS_TARGET_MIB} MiB → {'[green]met[/]' if ok else '[red]missed[/]'}\n"
        "client, server and (for S3) moto share this machine's CPUs; 'store' reads and writes "
        "in-process (a download from the page cache never touches a socket); 'curl' is the "
        "same request from a C client, i.e. what the server itself sustains"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
