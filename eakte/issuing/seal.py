"""The tenant's electronic seal: PAdES signatures with pyHanko (Art. 37 Abs. 3 BayVwVfG).

Per tenant, `<seal_dir>/<tenant>/` holds either `seal.p12` (+ `seal.pass` with its passphrase)
or `seal.key.pem` + `seal.cert.pem` (+ `chain.pem`). `eakte seal dev-ca` writes a development CA
and a certificate per tenant; outside dev mode such certificates are refused.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from eakte.issuing.errors import SealUnavailable

DEV_MARKER = "E-Akte Bau Entwicklung (nicht für den Echtbetrieb)"
FIELD_NAME = "Siegel"


@dataclass(frozen=True)
class Seal:
    """A loaded seal: pyHanko signer plus the certificate facts we check and record."""

    signer: signers.SimpleSigner
    subject: str
    not_after: dt.datetime
    development: bool


def tenant_dir(seal_dir: Path, tenant: str) -> Path:
    """Where one tenant's seal files live."""
    return seal_dir / tenant


def load_seal(seal_dir: Path, tenant: str, *, production: bool, now: dt.datetime) -> Seal:
    """The tenant's seal, or a clear reason why there is none that may be used."""
    d = tenant_dir(seal_dir, tenant)
    signer: signers.SimpleSigner | None = None
    if (d / "seal.p12").is_file():
        passphrase = (d / "seal.pass").read_bytes().strip() if (d / "seal.pass").is_file() else None
        signer = signers.SimpleSigner.load_pkcs12(str(d / "seal.p12"), passphrase=passphrase)
    elif (d / "seal.key.pem").is_file() and (d / "seal.cert.pem").is_file():
        chain = [str(d / "chain.pem")] if (d / "chain.pem").is_file() else []
        signer = signers.SimpleSigner.load(
            str(d / "seal.key.pem"), str(d / "seal.cert.pem"), ca_chain_files=chain
        )
    if signer is None:
        hint = "" if production else " (Entwicklung: `eakte seal dev-ca`)"
        raise SealUnavailable(
            f"Für {tenant} ist kein Siegelzertifikat eingerichtet ({d}){hint}; "
            "ohne Siegel wird nichts gezeichnet.",
            f"no seal certificate configured for {tenant} in {d}"
            + ("" if production else "; run `eakte seal dev-ca` for a development seal")
            + "; nothing is signed without one",
        )
    cert = signer.signing_cert
    not_after = cert.not_valid_after
    if not_after.tzinfo is None:
        not_after = not_after.replace(tzinfo=dt.UTC)
    not_before = cert.not_valid_before
    if not_before.tzinfo is None:
        not_before = not_before.replace(tzinfo=dt.UTC)
    if now >= not_after or now < not_before:
        raise SealUnavailable(
            f"Das Siegelzertifikat von {tenant} ist nicht gültig "
            f"(gültig bis {not_after:%d.%m.%Y}).",
            f"the seal certificate of {tenant} is not valid now (valid until {not_after:%Y-%m-%d})",
        )
    development = DEV_MARKER in cert.issuer.human_friendly
    if production and development:
        raise SealUnavailable(
            "Im Echtbetrieb wird kein Entwicklungszertifikat zum Siegeln verwendet.",
            "a development seal certificate is refused in production",
        )
    return Seal(signer, cert.subject.human_friendly, not_after, development)


def seal_pdf(pdf: bytes, seal: Seal, *, reason: str, location: str) -> bytes:
    """Add a PAdES baseline signature (invisible field, PDF/A stays intact) to `pdf`."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    out = signers.sign_pdf(writer, meta, signer=seal.signer)
    return out.getvalue()


@dataclass(frozen=True)
class SealCheck:
    """What validation of a downloaded document says."""

    intact: bool
    valid: bool
    trusted: bool
    signer: str | None
    covers_whole_file: bool


def verify_pdf(pdf: bytes, trust_roots: list[x509.Certificate]) -> SealCheck:
    """Validate the seal with pyHanko against `trust_roots` (outside an event loop)."""
    import asyncio

    return asyncio.run(averify_pdf(pdf, trust_roots))


async def averify_pdf(pdf: bytes, trust_roots: list[x509.Certificate]) -> SealCheck:
    """Validate the seal with pyHanko against `trust_roots`."""
    from asn1crypto import x509 as asn1_x509

    roots = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in trust_roots
    ]
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        sigs = reader.embedded_signatures
    except Exception:
        return SealCheck(False, False, False, None, False)
    if not sigs:
        return SealCheck(False, False, False, None, False)
    sig = sigs[0]
    try:
        status = await async_validate_pdf_signature(sig, ValidationContext(trust_roots=roots))
    except Exception:
        return SealCheck(False, False, False, None, False)
    from pyhanko.sign.validation import SignatureCoverageLevel

    return SealCheck(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        signer=status.signing_cert.subject.human_friendly if status.signing_cert else None,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
    )


def _cut(value: str, limit: int = 64) -> str:
    while len(value.encode("utf-8")) > limit:  # X.520 upper bound, counted in bytes here
        value = value[:-1]
    return value


def _name(common: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, _cut(common)),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _cut(org)),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)


def create_dev_ca(seal_dir: Path, tenants: dict[str, str], *, days: int = 730) -> list[Path]:
    """A development CA (kept in `seal_dir/dev-ca.*`) and a seal certificate per tenant."""
    now = dt.datetime.now(dt.UTC)
    ca_key_path, ca_cert_path = seal_dir / "dev-ca.key.pem", seal_dir / "dev-ca.cert.pem"
    if ca_key_path.is_file() and ca_cert_path.is_file():
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("E-Akte Bau Entwicklungs-Siegel-CA", DEV_MARKER)
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=max(1, -4 * days)))
            .not_valid_after(now + dt.timedelta(days=max(1, days * 2)))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write(ca_key_path, _pem_key(ca_key), 0o600)  # type: ignore[arg-type]
        _write(ca_cert_path, ca_cert.public_bytes(serialization.Encoding.PEM))
    written = [ca_cert_path]
    for slug, name in tenants.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{name} – Siegel (Entwicklung)", name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(min(now - dt.timedelta(minutes=5), now + dt.timedelta(days=2 * days)))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        d = tenant_dir(seal_dir, slug)
        _write(d / "seal.key.pem", _pem_key(key), 0o600)
        _write(d / "seal.cert.pem", cert.public_bytes(serialization.Encoding.PEM))
        _write(d / "chain.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
        written.append(d / "seal.cert.pem")
    return written


def dev_ca_certificate(seal_dir: Path) -> x509.Certificate:
    """The development CA's certificate (trust root for validating dev seals)."""
    return x509.load_pem_x509_certificate((seal_dir / "dev-ca.cert.pem").read_bytes())
