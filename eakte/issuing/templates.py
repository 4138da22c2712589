"""Jinja2 templates of letters: validated when saved, rendered with every placeholder filled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from eakte.issuing.errors import IssuingBlocked, TemplateInvalid
from eakte.issuing.letters import LetterType, allowed_placeholders

DEFAULTS = Path(__file__).with_name("defaults.yaml")
MAX_TEMPLATE_CHARS = 50_000

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@lru_cache
def defaults() -> dict[str, Any]:
    """The shipped default letterhead fields and templates."""
    return yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def default_version(letter_type: LetterType) -> int:
    """The current version of the shipped default for `letter_type` (1 unless it changed)."""
    return int(defaults()["templates"][letter_type.value].get("version", 1))


def default_released(letter_type: LetterType) -> date | None:
    """The day the current version of the shipped default was released (None: the first)."""
    value = defaults()["templates"][letter_type.value].get("released")
    return value if isinstance(value, date) else None


def default_template(letter_type: LetterType, version: int | None = None) -> tuple[str, str]:
    """(subject, body) of the shipped template for `letter_type`, at `version` (default: the
    current one). A released version never changes: a draft pinned to it signs the same text."""
    current = defaults()["templates"][letter_type.value]
    if version is None or version == int(current.get("version", 1)):
        return current["subject"], current["body"]
    old = (defaults().get("superseded") or {}).get(letter_type.value, {}).get(version)
    if old is None:
        raise IssuingBlocked(
            f"Die Standardvorlage „{letter_type.value}“ in Fassung {version} fehlt.",
            f"version {version} of the default template {letter_type.value} is missing",
        )
    return old["subject"], old["body"]


def _names(tree: nodes.Template) -> set[str]:
    return set(meta.find_undeclared_variables(tree))


def validate(letter_type: LetterType, subject: str, body: str) -> None:
    """Refuse a template with a syntax error or a placeholder this letter type does not know."""
    allowed = allowed_placeholders(letter_type)
    problems: list[dict[str, Any]] = []
    for part, source in (("subject", subject), ("body", body)):
        if len(source) > MAX_TEMPLATE_CHARS:
            problems.append({"field": part, "de": "Vorlage zu lang", "en": "template too long"})
            continue
        try:
            tree = _env.parse(source)
        except TemplateSyntaxError as exc:
            problems.append(
                {
                    "field": part,
                    "line": exc.lineno,
                    "de": f"Syntaxfehler in Zeile {exc.lineno}: {exc.message}",
                    "en": f"syntax error on line {exc.lineno}: {exc.message}",
                }
            )
            continue
        for name in sorted(_names(tree) - allowed):
            problems.append(
                {
                    "field": part,
                    "placeholder": name,
                    "de": f"Unbekannter Platzhalter „{name}“",
                    "en": f"unknown placeholder {name!r}",
                }
            )
    if problems:
        known = ", ".join(sorted(allowed))
        raise TemplateInvalid(
            "; ".join(p["en"] for p in problems) + f" (known placeholders: {known})",
            errors=problems,
        )


@dataclass(frozen=True)
class Block:
    """One block of a letter body: a heading, a paragraph or a list item."""

    kind: str  # "heading" | "paragraph" | "item"
    text: str


def render_text(source: str, context: dict[str, Any]) -> str:
    """Render with every used placeholder filled; a missing value blocks the letter."""
    tree = _env.parse(source)
    missing = sorted(n for n in _names(tree) if context.get(n) in (None, ""))
    if missing:
        names = ", ".join(missing)
        raise IssuingBlocked(
            f"Für den Brief fehlen Angaben: {names}",
            f"the letter lacks data for: {names}",
            missing=missing,
        )
    try:
        return _env.from_string(source).render(**context)
    except UndefinedError as exc:  # pragma: no cover - guarded by the check above
        raise IssuingBlocked(
            f"Platzhalter ohne Wert: {exc}", f"placeholder without data: {exc}"
        ) from exc


def blocks(text: str) -> list[Block]:
    """Split a rendered body into headings, paragraphs and list items."""
    out: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            out.append(Block("heading", line[3:].strip()))
        elif line.startswith("- "):
            flush()
            out.append(Block("item", line[2:].strip()))
        else:
            paragraph.append(line)
    flush()
    return out
