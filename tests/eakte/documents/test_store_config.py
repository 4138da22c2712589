"""Store settings: the filesystem default, S3, and clear start-up errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eakte.config import ConfigError, Settings
from eakte.documents.store import build_store
from storage import FilesystemStore, S3Store

SECRET = "Zq8-Lp3v_Xw9Rt2Kd7Hy5Bn1Mc4Fj6Gs0a"


def test_filesystem_store_under_the_data_dir(tmp_path: Path) -> None:
    store = build_store(Settings(env="dev", data_dir=tmp_path))
    assert isinstance(store, FilesystemStore)
    assert store.root == tmp_path / "objects"


def test_s3_needs_an_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EAKTE_S3_ENDPOINT"):
        Settings(env="dev", data_dir=tmp_path, storage="s3")


def test_production_s3_needs_credentials(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EAKTE_S3_ACCESS_KEY and EAKTE_S3_SECRET_KEY"):
        Settings(
            env="production",
            data_dir=tmp_path,
            jwt_secret=SECRET,
            storage="s3",
            s3_endpoint="https://s3.example.org",
        )


def test_s3_store_from_settings(s3_store_settings: dict[str, object], tmp_path: Path) -> None:
    # the test server's credentials (a real server refuses made-up ones; moto takes any)
    settings = Settings(
        env="dev",
        data_dir=tmp_path,
        **(s3_store_settings | {"s3_bucket": "eakte-config-test"}),  # type: ignore[arg-type]
    )
    store = build_store(settings)
    assert isinstance(store, S3Store) and store.bucket == "eakte-config-test"
    assert store.client.bucket_exists("eakte-config-test")
    store.client.remove_bucket("eakte-config-test")


def test_serve_refuses_s3_without_credentials_in_production(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_ENV="production",
        EAKTE_DATA_DIR=str(tmp_path),
        EAKTE_JWT_SECRET=SECRET,
        EAKTE_STORAGE="s3",
        EAKTE_S3_ENDPOINT="https://s3.example.org",
    )
    result = subprocess.run(
        [sys.executable, "-m", "eakte.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "EAKTE_S3_ACCESS_KEY" in result.stderr
