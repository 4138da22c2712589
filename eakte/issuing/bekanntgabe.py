"""When an issued letter counts as made known (Bekanntgabe): the issuing view of the one rule.

The rule itself is `workflows.bekanntgabe` (Art. 41 Abs. 2, 2a BayVwVfG, dated: the day count
depends on the posting day; see docs/legal-rules.md row 10). This module only names what the
issuing routes need, so a letter and the procedure can never compute different days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflows import bekanntgabe as rule

ELECTRONIC_RULE = "Art. 41 Abs. 2a S. 3 BayVwVfG: am Tag nach dem Abruf"


@dataclass(frozen=True)
class Bekanntgabe:
    """The computed date and the rule it follows (recorded with the issued document)."""

    on: date
    rule: str


def postal(posted_on: date) -> Bekanntgabe:
    """Zugangsfiktion for a letter posted on `posted_on` (Art. 41 Abs. 2 S. 1 BayVwVfG)."""
    computed = rule.compute_bekanntgabe(rule.Method.POST, posted_on)
    return Bekanntgabe(computed.on, computed.rule)


def electronic(provided_on: date, retrieved_on: date) -> Bekanntgabe:
    """Provision for retrieval (Art. 41 Abs. 2a BayVwVfG): the day after the retrieval.

    Raises `workflows.bekanntgabe.BekanntgabeError` when not retrieved within ten days."""
    computed = rule.compute_bekanntgabe(
        rule.Method.PROVISION, provided_on, retrieved_on=retrieved_on
    )
    return Bekanntgabe(computed.on, computed.rule)
