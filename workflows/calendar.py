"""Deadline arithmetic (§§ 187-193 BGB, Art. 31 BayVwVfG) over Bavarian public holidays.

Rules implemented:

- The day of the event (e.g. Bekanntgabe, receipt) is not counted (§ 187 Abs. 1 BGB).
- A period in days ends with the last day; in weeks, months or years on the day of the
  last week/month that has the same name or number as the event day (§ 188 Abs. 2 BGB);
  if that day does not exist in the month, on the month's last day (§ 188 Abs. 3 BGB).
- If the end falls on a Saturday, Sunday or public holiday the period ends on the next
  working day (§ 193 BGB, Art. 31 Abs. 3 S. 1 BayVwVfG). Callers switch this off where
  a fixed calendar day was set with a reference to that rule (Art. 31 Abs. 3 S. 2).
- Working days are Monday to Friday except public holidays.

Holidays follow the Bavarian Feiertagsgesetz (Art. 1 FTG): Mariä Himmelfahrt (15 Aug)
is a holiday only in municipalities with a predominantly catholic population (Augsburg
and München yes, Nürnberg no), and the Augsburger Friedensfest (8 Aug) only in the city
of Augsburg; so the calendar is chosen per tenant. Current law only: the rules are not
historically accurate before 1995.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from workflows.model import Unit


@dataclass(frozen=True)
class FixedHoliday:
    """A holiday on the same calendar day every year."""

    month: int
    day: int
    name: str


def easter_sunday(year: int) -> date:
    """Easter Sunday of `year` in the Gregorian calendar (anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


_FIXED = (
    FixedHoliday(1, 1, "Neujahr"),
    FixedHoliday(1, 6, "Heilige Drei Könige"),
    FixedHoliday(5, 1, "Tag der Arbeit"),
    FixedHoliday(10, 3, "Tag der Deutschen Einheit"),
    FixedHoliday(11, 1, "Allerheiligen"),
    FixedHoliday(12, 25, "1. Weihnachtstag"),
    FixedHoliday(12, 26, "2. Weihnachtstag"),
)
_EASTER_OFFSETS = (
    (-2, "Karfreitag"),
    (1, "Ostermontag"),
    (39, "Christi Himmelfahrt"),
    (50, "Pfingstmontag"),
    (60, "Fronleichnam"),
)
ASSUMPTION = FixedHoliday(8, 15, "Mariä Himmelfahrt")
FRIEDENSFEST = FixedHoliday(8, 8, "Augsburger Friedensfest")
_ONE_OFF = {date(2017, 10, 31): "Reformationstag (500. Jahrestag, einmalig)"}


@dataclass(frozen=True, init=False)
class HolidayCalendar:
    """Public holidays of one tenant: Bavarian statewide ones plus local options."""

    name: str
    include_assumption: bool
    extra_holidays: tuple[FixedHoliday, ...]
    extra_dates: tuple[tuple[date, str], ...]

    def __init__(
        self,
        name: str = "bavaria",
        *,
        include_assumption: bool = False,
        extra_holidays: Iterable[FixedHoliday | tuple[int, int, str]] = (),
        extra_dates: Iterable[date | tuple[date, str]] = (),
    ) -> None:
        fixed = tuple(
            h if isinstance(h, FixedHoliday) else FixedHoliday(*h) for h in extra_holidays
        )
        one_off = tuple(d if isinstance(d, tuple) else (d, "Feiertag") for d in extra_dates)
        for h in fixed:
            date(2000, h.month, h.day)  # raises ValueError for impossible days
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "include_assumption", include_assumption)
        object.__setattr__(self, "extra_holidays", fixed)
        object.__setattr__(self, "extra_dates", one_off)

    def holidays(self, year: int) -> dict[date, str]:
        """All public holidays of `year`, date -> German name, in date order."""
        return dict(_holidays(self, year))

    def is_holiday(self, day: date) -> bool:
        """Whether `day` is a public holiday in this calendar."""
        return day in _holidays(self, day.year)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is Monday to Friday and not a public holiday."""
        return day.weekday() < 5 and not self.is_holiday(day)

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself is not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day


@lru_cache(maxsize=512)
def _holidays(calendar: HolidayCalendar, year: int) -> dict[date, str]:
    found: dict[date, str] = {}
    fixed = list(_FIXED) + list(calendar.extra_holidays)
    if calendar.include_assumption:
        fixed.append(ASSUMPTION)
    for h in fixed:
        found.setdefault(date(year, h.month, h.day), h.name)
    easter = easter_sunday(year)
    for offset, name in _EASTER_OFFSETS:
        found.setdefault(easter + timedelta(days=offset), name)
    for day, name in list(_ONE_OFF.items()) + list(calendar.extra_dates):
        if day.year == year:
            found.setdefault(day, name)
    return dict(sorted(found.items()))


BAVARIA = HolidayCalendar("bavaria")
"""Statewide Bavarian holidays only (without Mariä Himmelfahrt)."""

CALENDARS: dict[str, HolidayCalendar] = {
    "bavaria": BAVARIA,
    "bavaria-catholic": HolidayCalendar("bavaria-catholic", include_assumption=True),
    "bavaria-augsburg": HolidayCalendar(
        "bavaria-augsburg", include_assumption=True, extra_holidays=[FRIEDENSFEST]
    ),
    "bavaria-muenchen": HolidayCalendar("bavaria-muenchen", include_assumption=True),
    "bavaria-nuernberg": HolidayCalendar("bavaria-nuernberg", include_assumption=False),
}
"""Named calendars a tenant can pick (`bavaria-catholic`: any catholic-majority town)."""


def get_calendar(name: str) -> HolidayCalendar:
    """The named calendar, e.g. `bavaria-augsburg`; ValueError if unknown."""
    try:
        return CALENDARS[name]
    except KeyError:
        known = ", ".join(sorted(CALENDARS))
        raise ValueError(f"unknown holiday calendar {name!r} (known: {known})") from None


class UnknownCalendar(ValueError):
    """A holiday calendar name that is not one of `CALENDARS`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.known = tuple(sorted(CALENDARS))
        super().__init__(f"unknown holiday calendar {name!r} (known: {', '.join(self.known)})")


def validate_calendar_name(name: str) -> str:
    """`name` if it names a holiday calendar, else UnknownCalendar (refuse it when a tenant
    is configured, not at every deadline computation)."""
    if name not in CALENDARS:
        raise UnknownCalendar(name)
    return name


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def add_months(start: date, months: int) -> date:
    """Same day number `months` later, or that month's last day (§ 188 Abs. 2, 3 BGB)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(start.day, _days_in_month(year, month)))


def add_period(
    start: date,
    amount: int,
    unit: Unit | str,
    calendar: HolidayCalendar,
    *,
    roll_forward: bool = True,
) -> date:
    """Last day of a period of `amount` `unit` running from the event day `start`."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount must be a non-negative int, not {amount!r}")
    unit = Unit(unit)
    if unit is Unit.DAYS:
        end = start + timedelta(days=amount)
    elif unit is Unit.WEEKS:
        end = start + timedelta(weeks=amount)
    elif unit is Unit.MONTHS:
        end = add_months(start, amount)
    elif unit is Unit.YEARS:
        end = add_months(start, 12 * amount)
    else:
        end = calendar.add_working_days(start, amount)
    return calendar.next_working_day(end) if roll_forward else end


def is_expired(due: date, today: date) -> bool:
    """Whether a deadline whose last day is `due` has run out by `today`."""
    return today > due
