"""`eakte xbau authority add` and `eakte xbau import FILE…` as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import TENANT_A, minimal_pdf

EAKTE = [sys.executable, "-m", "eakte.cli"]
FIXTURES = Path(__file__).parent / "fixtures"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EAKTE, *args], env=env, capture_output=True, text=True, timeout=300)


async def test_import_many_files_with_progress_then_fsck_is_clean(
    cli_env: dict[str, str],
    db,
    tmp_path: Path,
    message,  # type: ignore[no-untyped-def]
) -> None:
    assert (
        run(
            cli_env,
            "xbau",
            "authority",
            "add",
            "bau:097610000",
            "--tenant",
            TENANT_A,
            "--name",
            "Stadt Augsburg",
        ).returncode
        == 0
    )
    (tmp_path / "lageplan.pdf").write_bytes(minimal_pdf("Lageplan"))
    files = []
    for i in range(3):
        _, raw = message(anlagen=[("lageplan.pdf", "application/pdf", "lageplan", f"Lageplan {i}")])
        path = tmp_path / f"antrag-{i}.xml"
        path.write_bytes(raw)
        files.append(str(path))
    bad = tmp_path / "kaputt.xml"
    bad.write_bytes(b"<xbau:baugenehmigung.antrag.0200")
    result = run(cli_env, "xbau", "import", *files, files[0], str(bad))
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert out.count("imported baugenehmigung.antrag.0200") == 3
    assert "already received" in out
    assert "refused (xbau-malformed)" in out
    assert "4 of 5 messages accepted" in out
    fsck = run(cli_env, "fsck", "--grace", "0s")
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_authority_needs_a_dvdv_id_and_a_known_tenant(cli_env: dict[str, str], db) -> None:  # type: ignore[no-untyped-def]
    assert (
        run(cli_env, "xbau", "authority", "add", "Augsburg", "--tenant", TENANT_A).returncode == 2
    )
    assert run(cli_env, "xbau", "authority", "add", "bau:1", "--tenant", "atlantis").returncode == 1


def test_push_endpoint_set_show_remove(cli_env: dict[str, str], db) -> None:  # type: ignore[no-untyped-def]
    assert run(cli_env, "xbau", "push", "show", "--tenant", TENANT_A).returncode == 1
    bad = run(cli_env, "xbau", "push", "set", "ftp://portal.example/", "--tenant", TENANT_A)
    assert bad.returncode == 2
    assert (
        run(cli_env, "xbau", "push", "set", "http://a.example/", "--tenant", "atlantis").returncode
        == 1
    )
    done = run(cli_env, "xbau", "push", "set", "https://portal.example/xbau", "--tenant", TENANT_A)
    assert done.returncode == 0, done.stdout + done.stderr
    [secret] = [
        line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("secret: ")
    ]
    assert len(secret) >= 32
    shown = run(cli_env, "xbau", "push", "show", "--tenant", TENANT_A)
    assert shown.returncode == 0 and shown.stdout.strip() == "https://portal.example/xbau"
    assert run(cli_env, "xbau", "push", "remove", "--tenant", TENANT_A).returncode == 0
    assert run(cli_env, "xbau", "push", "remove", "--tenant", TENANT_A).returncode == 1
    assert run(cli_env, "xbau", "push", "show", "--tenant", TENANT_A).returncode == 1
