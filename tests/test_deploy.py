"""Deployable artefacts (no container engine runs here: checked statically).

The compose file's E-Akte environment must be a valid production configuration, the image
must run as non-root with libmagic and a health check, and install from the hashed lock.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nginx_support
import pytest
import yaml

from eakte.config import Settings
from eakte.documents.links import nginx_key_config

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_is_slim_non_root_with_libmagic_and_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert "libmagic1" in text
    assert "--require-hashes -r requirements.lock" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*/readyz", text, re.M)
    for copied in re.findall(r"^COPY (\S+)", text, re.M):
        assert (ROOT / copied).exists(), copied


def test_compose_configures_a_valid_production_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "keycloak", "eakte", "migrate"} <= set(services)
    for key, value in services["eakte"]["environment"].items():
        monkeypatch.setenv(key, str(value))  # read as the container reads it
    settings = Settings(data_dir=tmp_path)
    assert settings.env == "production" and settings.storage == "s3"
    assert settings.oidc_role_map["bau-sachbearbeitung"] == "clerk"
    assert settings.oidc_roles_claims[0] == "realm_access.roles"
    assert services["eakte"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_systemd_unit_verifies() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(ROOT / "deploy" / "eakte.service")],
        capture_output=True,
        text=True,
    )
    # the binary path does not exist on the build machine; nothing else may be wrong
    problems = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and "is not executable: No such file or directory" not in line
    ]
    assert problems == []


def test_lock_file_pins_every_dependency_with_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pins = re.findall(r"^([a-z0-9._-]+)==\S+ \\$", lock, re.M | re.I)
    assert {"fastapi", "sqlalchemy", "starlette", "pycrdt", "pytest"} <= {p.lower() for p in pins}
    blocks = re.split(r"\n(?=[a-z0-9])", lock, flags=re.I)
    for block in blocks:
        if "==" in block.split("\n", 1)[0]:
            assert "--hash=sha256:" in block, block.split("\n", 1)[0]


@pytest.mark.skipif(
    not (nginx_support.available() and shutil.which("openssl")),
    reason=f"needs openssl and nginx with its modules: {nginx_support.INSTALL_HINT}",
)
def test_nginx_site_example_is_accepted_by_nginx(tmp_path: Path) -> None:
    """deploy/nginx/eakte-site.conf with the download-link files passes `nginx -t` (issue 19)."""
    conf_dir = tmp_path / "eakte"
    conf_dir.mkdir()
    for name in ("eakte-downloads.js", "eakte-downloads.conf", "eakte-downloads-http.conf"):
        shutil.copy(ROOT / "deploy" / "nginx" / name, conf_dir / name)
    (conf_dir / "download-link-key.conf").write_text(nginx_key_config(b"x" * 40))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=eakte.stadt.example", "-keyout", str(tmp_path / "key.pem")]
        + ["-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
    )
    site = (ROOT / "deploy" / "nginx" / "eakte-site.conf").read_text()
    site = site.replace("/etc/nginx/eakte/", f"{conf_dir}/")
    site = site.replace("/etc/ssl/eakte/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/ssl/eakte/privkey.pem", str(tmp_path / "key.pem"))
    site = site.replace("listen 443", "listen 127.0.0.1:1443")
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        "".join(f"load_module {nginx_support.MODULES / name};\n" for name in nginx_support.NEEDED)
        + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ {temp} include {tmp_path}/site.conf; }}\n"
    )
    checked = subprocess.run(
        ["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
