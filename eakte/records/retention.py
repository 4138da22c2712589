"""Retention arithmetic (pure): counted from the end of the year in which the case was closed.

Source: the StMI's rules on Aufbewahrung and Aussonderung count Aufbewahrungsfristen by
business year; the reference implementation (4teamwork/opengever.core, admin-manual
`aussonderung.rst`) gives the example used in the tests: closed 03.01.2013 + 10 years →
eligible 01.01.2024 (DOMAIN.md, "retention").
"""

from __future__ import annotations

from datetime import date


def retention_ends(closed_on: date, years: int) -> date:
    """The first day on which a case closed on `closed_on` may be disposed of."""
    return date(closed_on.year + 1 + years, 1, 1)


def retention_over(closed_on: date, years: int, today: date) -> bool:
    """True once the retention period of a case closed on `closed_on` has ended."""
    return today >= retention_ends(closed_on, years)
