"""Render + seal time for a 10-page Baugenehmigung (30 Nebenbestimmungen); letters/s for a batch."""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from eakte.issuing import seal as seals
from eakte.issuing.render import Letter, render_pdf
from eakte.issuing.templates import blocks

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
BATCH = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def letter(body: str, ref: str) -> Letter:
    return Letter(
        subject="Baugenehmigung BA-2026-00001",
        blocks=blocks(body),
        authority_name="Stadt Augsburg",
        department="Bauordnungsamt",
        sender_line="Stadt Augsburg · Rathausplatz 1 · 86150 Augsburg",
        addressee_lines=["Maria Muster", "Hauptstraße 5", "86150 Augsburg"],
        info=[("Aktenzeichen", "BA-2026-00001")],
        signature_lines=["Im Auftrag", "A. Approver"],
        file_number="BA-2026-00001",
        date="01.12.2026",
        official="C. Clerk",
        verification_ref=ref,
    )


def main() -> None:
    para = "Die Auflage ist bis zur Nutzungsaufnahme zu erfüllen und nachzuweisen. " * 9
    body = "## Nebenbestimmungen\n" + "".join(f"- {i}. {para}\n" for i in range(1, 31))
    body += "\n## Begründung\n\n" + ("Das Vorhaben ist zulässig. " * 40 + "\n\n") * 6
    with tempfile.TemporaryDirectory() as d:
        seals.create_dev_ca(Path(d), {"augsburg": "Stadt Augsburg"})
        seal = seals.load_seal(Path(d), "augsburg", production=False, now=datetime.now(UTC))
        times = []
        for i in range(RUNS):
            t = time.perf_counter()
            seals.seal_pdf(render_pdf(letter(body, f"R{i}")), seal, reason="b", location="a")
            times.append(time.perf_counter() - t)
    import io

    import pypdf

    pages = len(pypdf.PdfReader(io.BytesIO(render_pdf(letter(body, "X")))).pages)
    q = statistics.quantiles(times, n=20)
    print(
        f"render+seal Baugenehmigung ({pages} pages, 30 conditions), {RUNS} runs: "
        f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {q[-1] * 1000:.0f} ms"
    )
    short = "Ihr Antrag ist eingegangen.\n\nWir prüfen ihn innerhalb von drei Wochen."
    rss = []
    t = time.perf_counter()
    for i in range(BATCH):
        render_pdf(letter(short, f"E{i}"))
        if i % max(1, BATCH // 10) == 0:
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    elapsed = time.perf_counter() - t
    print(
        f"{BATCH} Eingangsbestätigungen: {BATCH / elapsed:.1f} letters/s; "
        f"max RSS (MiB) along the batch: {rss}"
    )


if __name__ == "__main__":
    main()
