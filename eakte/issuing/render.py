"""Render a letter to PDF/A-2b with Typst (chosen by measurement, see docs/architecture.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import typst

from eakte.issuing.templates import Block

LAYOUT = Path(__file__).with_name("layout") / "letter.typ"
# DejaVu (Debian fonts-dejavu-core) is embedded into every PDF; Typst's own Libertinus is the
# fallback when the system font is missing. System fonts are ignored so output is reproducible.
FONT_DIRS = [p for p in [Path("/usr/share/fonts/truetype/dejavu")] if p.is_dir()]
PDF_STANDARD = "a-2b"


class RenderFailed(RuntimeError):
    """Typst refused the document (a bug in the layout, never in the clerk's text)."""


@dataclass(frozen=True)
class Letter:
    """Everything on the page, as plain data."""

    subject: str
    blocks: list[Block]
    authority_name: str
    department: str
    sender_line: str
    addressee_lines: list[str]
    info: list[tuple[str, str]]
    signature_lines: list[str]
    file_number: str
    date: str
    official: str
    verification_ref: str
    draft: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def data(self) -> str:
        """The JSON the layout reads from `sys.inputs.data`."""
        return json.dumps(
            {
                "subject": self.subject,
                "blocks": [asdict(b) for b in self.blocks],
                "letterhead": {
                    "authority_name": self.authority_name,
                    "department": self.department,
                },
                "sender_line": self.sender_line,
                "addressee_lines": self.addressee_lines,
                "info": [list(pair) for pair in self.info],
                "signature_lines": self.signature_lines,
                "footer": {
                    "file_number": self.file_number,
                    "date": self.date,
                    "official": self.official,
                    "verification_ref": self.verification_ref,
                },
                "draft": self.draft,
            },
            ensure_ascii=False,
        )


def render_pdf(letter: Letter) -> bytes:
    """The letter as PDF/A-2b bytes (CPU-bound: call it in a worker thread)."""
    try:
        return bytes(
            typst.compile(
                str(LAYOUT),
                sys_inputs={"data": letter.data()},
                pdf_standards=PDF_STANDARD,
                font_paths=[str(p) for p in FONT_DIRS],
                ignore_system_fonts=True,
            )
        )
    except Exception as exc:  # typst raises its own TypstError types
        if "could not be displayed with font" in str(exc):
            from eakte.issuing.errors import TextNotPrintable

            raise TextNotPrintable(
                "Der Text enthält Zeichen, die die Briefschrift nicht darstellen kann / the text "
                f"contains characters the letter font cannot show: {exc}"
            ) from exc
        raise RenderFailed(str(exc)) from exc
