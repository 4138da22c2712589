"""Deadline arithmetic and Bavarian holidays (§§ 187-193 BGB, Art. 31 BayVwVfG, FTG)."""

from __future__ import annotations

from datetime import date

import pytest

from workflows import (
    BAVARIA,
    HolidayCalendar,
    add_period,
    easter_sunday,
    get_calendar,
    is_expired,
)

AUGSBURG = get_calendar("bavaria-augsburg")
MUENCHEN = get_calendar("bavaria-muenchen")
NUERNBERG = get_calendar("bavaria-nuernberg")


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (1818, date(1818, 3, 22)),  # earliest possible
        (1943, date(1943, 4, 25)),  # latest possible
        (2000, date(2000, 4, 23)),
        (2008, date(2008, 3, 23)),
        (2011, date(2011, 4, 24)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year: int, expected: date) -> None:
    assert easter_sunday(year) == expected


def test_easter_matches_dateutil_over_centuries() -> None:
    easter = pytest.importorskip("dateutil.easter").easter
    assert all(easter_sunday(y) == easter(y) for y in range(1900, 2300))


def test_bavarian_holidays_2025() -> None:
    assert list(BAVARIA.holidays(2025)) == [
        date(2025, 1, 1),
        date(2025, 1, 6),
        date(2025, 4, 18),  # Karfreitag
        date(2025, 4, 21),  # Ostermontag
        date(2025, 5, 1),
        date(2025, 5, 29),  # Christi Himmelfahrt
        date(2025, 6, 9),  # Pfingstmontag
        date(2025, 6, 19),  # Fronleichnam
        date(2025, 10, 3),
        date(2025, 11, 1),
        date(2025, 12, 25),
        date(2025, 12, 26),
    ]


def test_easter_dependent_holidays_2024() -> None:
    names = {v: k for k, v in BAVARIA.holidays(2024).items()}
    assert names["Karfreitag"] == date(2024, 3, 29)
    assert names["Ostermontag"] == date(2024, 4, 1)
    assert names["Christi Himmelfahrt"] == date(2024, 5, 9)
    assert names["Pfingstmontag"] == date(2024, 5, 20)
    assert names["Fronleichnam"] == date(2024, 5, 30)


def test_friedensfest_only_in_augsburg() -> None:
    day = date(2025, 8, 8)
    assert AUGSBURG.is_holiday(day)
    assert AUGSBURG.holidays(2025)[day] == "Augsburger Friedensfest"
    for calendar in (BAVARIA, MUENCHEN, NUERNBERG, get_calendar("bavaria-catholic")):
        assert not calendar.is_holiday(day)


def test_assumption_depends_on_municipality() -> None:
    day = date(2025, 8, 15)
    assert AUGSBURG.is_holiday(day)
    assert MUENCHEN.is_holiday(day)
    assert not NUERNBERG.is_holiday(day)
    assert not BAVARIA.is_holiday(day)
    assert HolidayCalendar("custom", include_assumption=True).is_holiday(day)


def test_reformation_day_2017_was_a_one_off_holiday() -> None:
    assert BAVARIA.is_holiday(date(2017, 10, 31))
    assert not BAVARIA.is_holiday(date(2018, 10, 31))


def test_custom_calendar_extra_holidays() -> None:
    cal = HolidayCalendar(
        "town", extra_holidays=[(7, 24, "Stadtfest")], extra_dates=[date(2025, 3, 3)]
    )
    assert cal.is_holiday(date(2026, 7, 24))
    assert cal.is_holiday(date(2025, 3, 3))
    assert not cal.is_holiday(date(2026, 3, 3))
    with pytest.raises(ValueError):
        HolidayCalendar("bad", extra_holidays=[(2, 30, "never")])


def test_unknown_calendar_name() -> None:
    with pytest.raises(ValueError, match="bavaria-augsburg"):
        get_calendar("atlantis")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2025, 1, 31), date(2025, 2, 28)),  # Friday, no roll needed
        (date(2024, 1, 31), date(2024, 2, 29)),  # leap year
        (date(2025, 3, 31), date(2025, 4, 30)),
        (date(2025, 1, 15), date(2025, 2, 17)),  # 15 Feb is a Saturday
    ],
)
def test_one_month_from_month_end(start: date, expected: date) -> None:
    assert add_period(start, 1, "months", BAVARIA) == expected


def test_month_end_on_saturday_rolls_to_monday() -> None:
    assert add_period(date(2026, 1, 31), 1, "months", BAVARIA, roll_forward=False) == date(
        2026, 2, 28
    )
    assert add_period(date(2026, 1, 31), 1, "months", BAVARIA) == date(2026, 3, 2)


def test_day_of_event_not_counted() -> None:
    assert add_period(date(2025, 3, 3), 10, "days", BAVARIA) == date(2025, 3, 13)
    assert add_period(date(2025, 3, 3), 2, "weeks", BAVARIA) == date(2025, 3, 17)


def test_roll_over_easter() -> None:
    # Two weeks from 4 April 2025 end on Karfreitag; Sat, Sun, Ostermontag follow.
    assert add_period(date(2025, 4, 4), 2, "weeks", BAVARIA) == date(2025, 4, 22)


def test_roll_over_christmas() -> None:
    assert add_period(date(2025, 12, 22), 3, "days", BAVARIA) == date(2025, 12, 29)


def test_roll_over_local_holidays() -> None:
    ends_on_friedensfest = date(2025, 7, 8)
    assert add_period(ends_on_friedensfest, 1, "months", AUGSBURG) == date(2025, 8, 11)
    assert add_period(ends_on_friedensfest, 1, "months", MUENCHEN) == date(2025, 8, 8)
    ends_on_assumption = date(2025, 7, 15)
    assert add_period(ends_on_assumption, 1, "months", MUENCHEN) == date(2025, 8, 18)
    assert add_period(ends_on_assumption, 1, "months", NUERNBERG) == date(2025, 8, 15)


def test_years_and_leap_day() -> None:
    assert add_period(date(2024, 2, 29), 4, "years", BAVARIA) == date(2028, 2, 29)
    assert add_period(date(2024, 2, 29), 1, "years", BAVARIA) == date(2025, 2, 28)


def test_working_days() -> None:
    maundy_thursday = date(2025, 4, 17)
    assert add_period(maundy_thursday, 1, "working_days", BAVARIA) == date(2025, 4, 22)
    assert add_period(maundy_thursday, 3, "working_days", BAVARIA) == date(2025, 4, 24)
    assert add_period(date(2025, 8, 7), 1, "working_days", AUGSBURG) == date(2025, 8, 11)
    assert add_period(date(2025, 8, 7), 1, "working_days", NUERNBERG) == date(2025, 8, 8)


def test_next_working_day_and_expiry() -> None:
    assert BAVARIA.next_working_day(date(2025, 6, 9)) == date(2025, 6, 10)
    assert BAVARIA.next_working_day(date(2025, 6, 10)) == date(2025, 6, 10)
    assert not is_expired(date(2025, 6, 10), date(2025, 6, 10))
    assert is_expired(date(2025, 6, 10), date(2025, 6, 11))


def test_invalid_periods() -> None:
    with pytest.raises(ValueError):
        add_period(date(2025, 1, 1), -1, "days", BAVARIA)
    with pytest.raises(ValueError):
        add_period(date(2025, 1, 1), 1, "fortnights", BAVARIA)
    with pytest.raises(ValueError):
        BAVARIA.add_working_days(date(2025, 1, 1), -2)
