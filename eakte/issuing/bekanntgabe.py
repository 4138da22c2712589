"""When an administrative act counts as made known (Bekanntgabe).

Issue 12 (procedures) owns the dated rules; until it lands, this one function is the place to
swap. Rule: Art. 41 Abs. 2 S. 1 BayVwVfG — a written act sent by post within Germany counts as
made known on the third day after it was posted ("Zugangsfiktion"); electronic provision for
retrieval (Art. 41 Abs. 2a BayVwVfG) counts on the day after retrieval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

POSTAL_RULE = "Art. 41 Abs. 2 S. 1 BayVwVfG (dritter Tag nach Aufgabe zur Post)"
ELECTRONIC_RULE = "Art. 41 Abs. 2a BayVwVfG (Tag nach dem Abruf)"


@dataclass(frozen=True)
class Bekanntgabe:
    """The computed date and the rule it follows (recorded with the issued document)."""

    on: date
    rule: str


def postal(posted_on: date) -> Bekanntgabe:
    """Zugangsfiktion for a letter posted on `posted_on`."""
    return Bekanntgabe(posted_on + timedelta(days=3), POSTAL_RULE)


def electronic(retrieved_on: date) -> Bekanntgabe:
    """Bekanntgabe of an act retrieved from the applicant's account on `retrieved_on`."""
    return Bekanntgabe(retrieved_on + timedelta(days=1), ELECTRONIC_RULE)
