"""Signed checkpoints of the audit chains, kept by a witness outside the database (issue 18).

A plain hash chain cannot tell that its last events were deleted together with the head
row, or that an event was rewritten and every later hash recomputed: the rows still agree
with each other. So at an interval (and on demand) each tenant's chain head — tenant, seq,
hash, time — is signed with the installation's Ed25519 key (a file, never in the database)
and appended to a witness: a JSON-lines file per tenant opened append-only (make it
`chattr +a` so the service can only append), or objects under a prefix of the object store
(put S3 Object Lock on it), and a log line. `verify` then compares the chain with every
checkpoint: a checkpoint beyond the chain's end means truncation (or a wiped trail), a
checkpoint whose hash differs from the event at its seq means rewriting.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from eakte.audit.models import AuditChainHead
from eakte.config import Settings
from eakte.db import Database
from storage import ObjectStore

log = logging.getLogger("eakte.audit")

WITNESS_PREFIX = "audit-witness/"


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain of `tenant` had `seq` events ending in `hash` at `at`."""

    tenant: str
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    def signed_part(self) -> bytes:
        return _canonical(
            {"v": 1, "tenant": self.tenant, "seq": self.seq, "hash": self.hash, "at": self.at}
        )

    def to_json(self) -> str:
        body = json.loads(self.signed_part())
        body.update(key=self.key_id, sig=self.signature)
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        data = json.loads(line)
        return cls(
            tenant=str(data["tenant"]),
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            at=str(data["at"]),
            key_id=str(data["key"]),
            signature=str(data["sig"]),
        )


class Signer:
    """The installation's Ed25519 key, loaded from (or, once, generated into) a file."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def from_file(cls, path: Path, *, create: bool) -> Signer:
        """Load the PEM key at `path`; with `create`, generate it (0600) if missing."""
        if not path.exists():
            if not create:
                raise FileNotFoundError(f"no audit signing key at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            try:  # several processes may start at once: the first complete key wins
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key)

    def sign(self, tenant: str, seq: int, hash_: str, at: datetime) -> Checkpoint:
        unsigned = Checkpoint(tenant, seq, hash_, _iso(at), self.key_id, "")
        signature = self.private_key.sign(unsigned.signed_part())
        return Checkpoint(
            tenant, seq, hash_, unsigned.at, self.key_id, base64.b64encode(signature).decode()
        )

    def valid(self, checkpoint: Checkpoint) -> bool:
        try:
            self.public_key.verify(base64.b64decode(checkpoint.signature), checkpoint.signed_part())
        except (InvalidSignature, ValueError):
            return False
        return checkpoint.key_id == self.key_id


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Witness(Protocol):
    """Somewhere outside the database that keeps checkpoints and can only be appended to."""

    def append(self, checkpoint: Checkpoint) -> None: ...

    def read(self, tenant: str | None = None) -> list[Checkpoint]: ...


class FileWitness:
    """One JSON-lines file per tenant, opened O_APPEND (use `chattr +a` on the files)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, tenant: str) -> Path:
        return self.directory / f"{tenant}.jsonl"

    def append(self, checkpoint: Checkpoint) -> None:
        self.directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        fd = os.open(self._path(checkpoint.tenant), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (checkpoint.to_json() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, tenant: str | None = None) -> list[Checkpoint]:
        paths = [self._path(tenant)] if tenant else sorted(self.directory.glob("*.jsonl"))
        found = []
        for path in paths:
            if not path.exists():
                continue
            for line in path.read_text().splitlines():
                if line.strip():
                    found.append(Checkpoint.from_json(line))
        return found


class StoreWitness:
    """One object per checkpoint under `audit-witness/<tenant>/` (S3: add Object Lock)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def append(self, checkpoint: Checkpoint) -> None:
        digest = hashlib.sha256(checkpoint.signature.encode()).hexdigest()[:16]
        key = f"{WITNESS_PREFIX}{checkpoint.tenant}/{checkpoint.seq:020d}-{digest}"
        body = checkpoint.to_json().encode()
        self.store.put(key, io.BytesIO(body), len(body), "application/json")

    def read(self, tenant: str | None = None) -> list[Checkpoint]:
        prefix = WITNESS_PREFIX + (f"{tenant}/" if tenant else "")
        found = []
        for entry in self.store.iter_keys(prefix):
            with self.store.open(entry.key) as reader:
                found.append(Checkpoint.from_json(b"".join(reader).decode()))
        return found


def build_witness(settings: Settings, store: ObjectStore | None = None) -> Witness:
    """The store prefix when `EAKTE_AUDIT_WITNESS=store`, else files under the witness dir."""
    if settings.audit_witness == "store":
        if store is None:
            from eakte.documents.store import build_store

            store = build_store(settings)
        return StoreWitness(store)
    return FileWitness(settings.audit_witness_dir or settings.data_dir / "audit-witness")


def build_signer(settings: Settings, *, create: bool) -> Signer:
    """The signing key from EAKTE_AUDIT_SIGNING_KEY_FILE (default: under the data dir)."""
    path = settings.audit_signing_key_file or settings.data_dir / "audit-signing.key"
    return Signer.from_file(path, create=create)


async def checkpoint_all(db: Database, signer: Signer, witness: Witness) -> list[Checkpoint]:
    """Sign and witness every tenant's chain head that moved since its last checkpoint."""
    async with db.session(write=False) as session:
        heads = (await session.scalars(select(AuditChainHead))).all()
        current = [(h.tenant_id, h.last_seq, h.last_hash) for h in heads if h.last_seq > 0]
    latest: dict[str, tuple[int, str]] = {}
    for cp in await asyncio.to_thread(witness.read):
        if cp.seq >= latest.get(cp.tenant, (-1, ""))[0]:
            latest[cp.tenant] = (cp.seq, cp.hash)
    written = []
    now = datetime.now(UTC)
    for tenant, seq, hash_ in current:
        if latest.get(tenant) == (seq, hash_):
            continue
        checkpoint = signer.sign(tenant, seq, hash_, now)
        await asyncio.to_thread(witness.append, checkpoint)
        log.info("audit checkpoint %s", checkpoint.to_json())
        written.append(checkpoint)
    return written


async def run_periodically(db: Database, signer: Signer, witness: Witness, interval: float) -> None:
    """Checkpoint at an interval (cancelled on shutdown)."""
    while True:
        try:
            await checkpoint_all(db, signer, witness)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep going; the next run retries
            log.exception("audit checkpoint failed")
        await asyncio.sleep(interval)


def check_against(
    checkpoints: Iterable[Checkpoint], signer: Signer, chain_end: int, hashes: dict[int, str]
) -> str | None:
    """The first inconsistency between a chain (its end and hashes at seqs) and checkpoints."""
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        if not signer.valid(cp):
            return f"the checkpoint at seq {cp.seq} has no valid signature (witness tampered)"
        if cp.seq > chain_end:
            if chain_end == 0:
                return f"trail wiped: a signed checkpoint from {cp.at} covers {cp.seq} events"
            return (
                f"truncated: a signed checkpoint from {cp.at} covers {cp.seq} events, "
                f"the chain ends at {chain_end}"
            )
        if hashes.get(cp.seq) != cp.hash:
            return f"rewritten: event {cp.seq} does not match the signed checkpoint from {cp.at}"
    return None
