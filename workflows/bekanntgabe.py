"""When a decision counts as made known (Bekanntgabe, Art. 41 BayVwVfG), computed (pure).

- By post within Germany or electronically transmitted: on the n-th day after posting /
  sending (Art. 41 Abs. 2 S. 1 and 2). The day count is a dated rule: the federal VwVfG
  moved from the third to the fourth day for acts posted from 01.01.2025 (§ 41 Abs. 2
  VwVfG as amended by the Postrechtsmodernisierungsgesetz). **[nv]** Whether and from
  when Bavaria adopted the fourth day in Art. 41 Abs. 2 BayVwVfG was not verified here
  (the amending act of 23.12.2024, GVBl. S. 599, is the candidate). The fourth day is
  modelled from 01.01.2025 because it is the safe side for the Genehmigungsfiktion: a
  later computed Bekanntgabe can only make the system report a fiction an approver then
  reverses, never hide one.
- The Zugangsfiktion is a fixed day, not a period: it does not roll over a weekend or
  holiday (Art. 31 Abs. 3 BayVwVfG does not apply to it).
- It does not apply if the act arrived later or not at all (Art. 41 Abs. 2 S. 3): an
  official records the proven later receipt. An *earlier* actual receipt does not move
  the Bekanntgabe forward (the fiction also protects the addressee), so it is refused.
- Electronic provision for retrieval (Art. 41 Abs. 2a): the day after the retrieval; not
  retrieved within ten days after the notice of provision: no Bekanntgabe.
- Handed over in person (Aushändigung): that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Method(StrEnum):
    """How the decision was sent."""

    POST = "post"
    ELECTRONIC = "electronic"  # electronically transmitted (e-mail, De-Mail, postbox)
    PROVISION = "provision"  # provided for retrieval in a portal (Art. 41 Abs. 2a)
    HANDED_OVER = "handed_over"  # handed over in person


@dataclass(frozen=True)
class ZugangRule:
    """From `valid_from` on, a posted or transmitted act counts as known on day `days`."""

    valid_from: date
    days: int
    source: str


ZUGANG_RULES: tuple[ZugangRule, ...] = (
    ZugangRule(
        date(1977, 1, 1),
        3,
        "Art. 41 Abs. 2 S. 1 und 2 BayVwVfG: am dritten Tag nach der Aufgabe zur Post/Absendung",
    ),
    ZugangRule(
        date(2025, 1, 1),
        4,
        "Art. 41 Abs. 2 S. 1 und 2 BayVwVfG (wie § 41 Abs. 2 VwVfG ab 01.01.2025): am vierten "
        "Tag nach der Aufgabe zur Post/Absendung [nv: Übernahme in Bayern nicht geprüft]",
    ),
)
PROVISION_RETRIEVAL_DAYS = 10  # Art. 41 Abs. 2a S. 4 BayVwVfG


class BekanntgabeError(ValueError):
    """The facts given do not make a Bekanntgabe (German and English text)."""

    def __init__(self, code: str, de: str, en: str) -> None:
        super().__init__(en)
        self.code, self.de, self.en = code, de, en


@dataclass(frozen=True)
class Bekanntgabe:
    """The computed day of the Bekanntgabe and the rule it follows."""

    method: Method
    sent_on: date
    on: date
    rule: str


def zugang_rule(sent_on: date, rules: tuple[ZugangRule, ...] = ZUGANG_RULES) -> ZugangRule:
    """The rule in force on the posting day."""
    chosen = rules[0]
    for rule in rules:
        if rule.valid_from <= sent_on:
            chosen = rule
    return chosen


def compute_bekanntgabe(
    method: Method | str,
    sent_on: date,
    *,
    retrieved_on: date | None = None,
    proven_receipt_on: date | None = None,
    rules: tuple[ZugangRule, ...] = ZUGANG_RULES,
) -> Bekanntgabe:
    """The day the decision counts as made known, or BekanntgabeError."""
    method = Method(method)
    if method is Method.HANDED_OVER:
        return Bekanntgabe(method, sent_on, sent_on, "Aushändigung: Bekanntgabe mit Übergabe")
    if method is Method.PROVISION:
        if retrieved_on is None:
            raise BekanntgabeError(
                "not_retrieved",
                "Ohne Abruf ist ein zum Abruf bereitgestellter Bescheid nicht bekanntgegeben "
                "(Art. 41 Abs. 2a BayVwVfG).",
                "A decision provided for retrieval is not notified until it is retrieved.",
            )
        if retrieved_on < sent_on:
            raise BekanntgabeError(
                "retrieved_before_sent",
                "Der Abruf liegt vor der Bereitstellung.",
                "The retrieval lies before the provision.",
            )
        if (retrieved_on - sent_on).days > PROVISION_RETRIEVAL_DAYS:
            raise BekanntgabeError(
                "retrieval_too_late",
                "Nicht innerhalb von zehn Tagen abgerufen: die Bekanntgabe ist nicht bewirkt "
                "(Art. 41 Abs. 2a S. 4 und 5 BayVwVfG).",
                "Not retrieved within ten days: the notification did not take effect.",
            )
        return Bekanntgabe(
            method,
            sent_on,
            retrieved_on + timedelta(days=1),
            "Art. 41 Abs. 2a S. 3 BayVwVfG: am Tag nach dem Abruf",
        )
    rule = zugang_rule(sent_on, rules)
    fictional = sent_on + timedelta(days=rule.days)
    if proven_receipt_on is None:
        return Bekanntgabe(method, sent_on, fictional, rule.source)
    if proven_receipt_on < fictional:
        raise BekanntgabeError(
            "earlier_receipt",
            f"Ein früherer Zugang ({proven_receipt_on:%d.%m.%Y}) verschiebt die Bekanntgabe "
            f"nicht vor den {fictional:%d.%m.%Y} (Art. 41 Abs. 2 BayVwVfG).",
            f"An earlier receipt ({proven_receipt_on.isoformat()}) does not move the "
            f"notification before {fictional.isoformat()}.",
        )
    return Bekanntgabe(
        method,
        sent_on,
        proven_receipt_on,
        "Art. 41 Abs. 2 S. 3 BayVwVfG: späterer Zugang nachgewiesen",
    )
