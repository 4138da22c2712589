"""Run `eakte.search.extract` in a child process with time, memory and size caps."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
from dataclasses import dataclass

EXTRACT_ARGV = [sys.executable, "-m", "eakte.search.extract"]


@dataclass(frozen=True)
class Limits:
    """Per-document caps (EAKTE_SEARCH_* settings)."""

    max_bytes: int
    max_seconds: float
    max_memory_mib: int
    max_chars: int
    # tesseract languages (e.g. "deu") when OCR is switched on (EAKTE_SEARCH_OCR), else None
    ocr_languages: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What came out: text (maybe empty), pages, or why there is none."""

    text: str = ""
    pages: int = 0
    error: str | None = None
    unsupported: bool = False


def _limit_child(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def run(data: bytes, media_type: str, limits: Limits) -> Outcome:
    """Extract the text of `data` in a limited child process; never raises for bad content."""
    if len(data) > limits.max_bytes:
        return Outcome(error=f"larger than the extraction limit of {limits.max_bytes} bytes")
    memory = limits.max_memory_mib * 1024 * 1024
    cpu = max(1, int(limits.max_seconds) + 1)
    ocr = ["--ocr", limits.ocr_languages] if limits.ocr_languages else []
    process = await asyncio.create_subprocess_exec(
        *EXTRACT_ARGV,
        media_type,
        str(limits.max_chars),
        *ocr,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=lambda: _limit_child(memory, cpu),
        # its own process group: OCR runs pdftoppm and tesseract as children of the child,
        # and a timeout must stop them too (they inherit the memory and CPU limits)
        start_new_session=True,
    )
    try:
        async with asyncio.timeout(limits.max_seconds):
            out, err = await process.communicate(data)
    except TimeoutError:
        _kill(process)
        await process.wait()
        return Outcome(error=f"extraction took longer than {limits.max_seconds:g} s; stopped")
    except BaseException:
        _kill(process)
        await process.wait()
        raise
    if process.returncode != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["killed"]
        return Outcome(error=f"extraction failed (exit {process.returncode}): {last[0][:200]}")
    try:
        result = json.loads(out)
    except ValueError:
        return Outcome(error="the extractor wrote no result")
    if "unsupported" in result:
        return Outcome(unsupported=True, error=str(result["unsupported"]))
    return Outcome(text=str(result.get("text", "")), pages=int(result.get("pages", 0)))
