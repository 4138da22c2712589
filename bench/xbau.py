"""XBau inbox throughput: 0200 messages per second with 20 MB of Anlagen each.

Starts a real `eakte serve` (uvicorn, SQLite + filesystem store in a temporary data dir),
registers the authority's XBau address, and delivers --messages distinct 0200 messages to
`POST /api/v1/xbau/inbox`, each with --attachments PDF Anlagen that together make
--mib-per-message MiB (default 4 x 5 MiB = 20 MiB), one after the other like an intermediary.
Every message is XSD-validated, its Anlagen sniffed by libmagic, stored and recorded as in
production. It prints messages/s, MiB/s and the server's resident memory: the peak growth
while the first half of the messages ran and while the second half ran (constant memory
means the second half grows no more than the first; the target is that it does not grow).

    python bench/xbau.py [--messages 20] [--attachments 4] [--mib-per-message 20]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from upload import SECRET, RssSampler, free_port, make_file, prepare_database, serve  # noqa: E402

from eakte.auth.tokens import issue_token  # noqa: E402
from eakte.config import Settings  # noqa: E402

MiB = 1024 * 1024
TENANT = "augsburg"
KENNUNG = "bau:097610000"
FIXTURE = Path(__file__).resolve().parents[1] / "tests/eakte/xbau/fixtures/0200_neubau_efh.xml"
console = Console(stderr=True)


def message(index: int, names: list[str], sizes: list[int], digests: list[str]) -> bytes:
    """The realistic fixture with a fresh UUID and one Anlage per generated file."""
    from lxml import etree

    root = etree.parse(str(FIXTURE)).getroot()
    root.find("nachrichtenkopf.g2g/identifikation.nachricht/nachrichtenUUID").text = str(  # type: ignore[union-attr]
        uuid.uuid4()
    )
    ns = "{http://www.xleitstelle.de/xbau/2/6}"
    container = root.find(f"{ns}anlagen")
    assert container is not None
    template = container[0]
    container.remove(template)
    for n, (name, size, digest) in enumerate(zip(names, sizes, digests, strict=True)):
        item = etree.fromstring(etree.tostring(template))
        item.find("bezeichnung").text = f"Bauzeichnung {index}-{n}"  # type: ignore[union-attr]
        item.find("anlageart/code").text = "bauzeichnung"  # type: ignore[union-attr]
        anhang = item.find("anhangOderVerlinkung/anhang")
        assert anhang is not None
        anhang.set("filesize", str(size))
        anhang.set("hashValue", digest)
        anhang.find("dokumentid").text = f"urn:uuid:{uuid.uuid4()}"  # type: ignore[union-attr]
        anhang.find("dateiname").text = name  # type: ignore[union-attr]
        container.append(item)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--attachments", type=int, default=4)
    parser.add_argument("--mib-per-message", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eakte-xbau-bench-") as tmp:
        root = Path(tmp)
        data = root / "var"
        env = {
            "EAKTE_ENV": "dev",
            "EAKTE_DATA_DIR": str(data),
            "EAKTE_DATABASE_URL": f"sqlite:///{data / 'bench.sqlite3'}",
            "EAKTE_JWT_SECRET": SECRET,
            "EAKTE_LOG_LEVEL": "warning",
            "PATH": "/usr/bin:/bin",
        }
        data.mkdir()
        prepare_database(env, 256 * MiB)
        import subprocess

        subprocess.run(
            [
                sys.executable,
                "-m",
                "eakte.cli",
                "xbau",
                "authority",
                "add",
                KENNUNG,
                "--tenant",
                TENANT,
                "--name",
                "Stadt Augsburg",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        size = args.mib_per_message * MiB // args.attachments
        names, sizes, digests = [], [], []
        for n in range(args.attachments):
            path = root / f"zeichnung-{n}.pdf"
            make_file(path, size)
            names.append(path.name)
            sizes.append(size)
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
        settings = Settings(env="dev", jwt_secret=SECRET, data_dir=data)
        token = issue_token(
            settings,
            tenant=TENANT,
            sub="portal@augsburg",
            roles=["xbau"],
            name="Intermediär",
            ttl_seconds=3600,
        )
        port = free_port()
        half = max(1, args.messages // 2)
        growth: list[float] = []
        with (
            serve(env, port) as proc,
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=600,
                headers={"Authorization": f"Bearer {token}"},
            ) as client,
        ):

            def deliver(i: int) -> None:
                handles = [(root / name).open("rb") for name in names]
                try:
                    files = [
                        (
                            "nachricht",
                            ("n.xml", message(i, names, sizes, digests), "application/xml"),
                        )
                    ]
                    files += [
                        ("anlage", (name, h, "application/pdf"))
                        for name, h in zip(names, handles, strict=True)
                    ]
                    response = client.post("/api/v1/xbau/inbox", files=files)
                finally:
                    for h in handles:
                        h.close()
                if response.status_code != 201:
                    raise RuntimeError(f"message {i}: {response.status_code} {response.text[:500]}")

            deliver(-1)  # warm-up: schema compiled, libmagic loaded, pools filled
            started = time.perf_counter()
            done = 0
            for part in (range(half), range(half, args.messages)):
                with RssSampler(proc.pid) as rss:
                    for i in part:
                        deliver(i)
                        done += 1
                growth.append(rss.growth_mib)
            elapsed = time.perf_counter() - started
    rate = done / elapsed
    table = Table(title="XBau inbox: 0200 with Anlagen (SQLite + filesystem store)")
    for column in (
        "messages",
        "MiB per message",
        "messages/s",
        "MiB/s",
        "RSS growth 1st half (MiB)",
        "RSS growth 2nd half (MiB)",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(done),
        str(args.mib_per_message),
        f"{rate:.2f}",
        f"{rate * args.mib_per_message:.1f}",
        f"{growth[0]:.1f}",
        f"{growth[-1]:.1f}",
    )
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
