"""The yearly calendar of the three survey waves: which cohort's wave is due on a given day.

TRACKTION surveys a cohort (graduation year Y) 2-3 months before graduation (March of Y), about six
months after (January of Y+1) and about eighteen months after (January of Y+2). Each region sets
its own fieldwork dates, so the month and day of each wave are configuration
(`GRADTRACK_WAVE_DATES`); the year offset is the protocol's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ingestion.contract import WAVES

# Years between graduation and each wave's fieldwork.
WAVE_YEAR_OFFSET: dict[str, int] = {"pre_graduation": 0, "m6": 1, "m18": 2}
DEFAULT_DATES: dict[str, tuple[int, int]] = {"pre_graduation": (3, 1), "m6": (1, 15), "m18": (1, 15)}
# A wave stays due for this many days after its date, so a scheduler that was down on the day
# still starts it when it comes back (the run key makes it start once).
DEFAULT_CATCH_UP_DAYS = 28


@dataclass(frozen=True)
class WaveCalendar:
    dates: Mapping[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_DATES))
    catch_up_days: int = DEFAULT_CATCH_UP_DAYS

    @classmethod
    def parse(cls, text: str) -> WaveCalendar:
        """`pre_graduation=03-01,m6=01-15,m18=01-15,catch_up_days=28`; missing entries keep defaults."""
        dates = dict(DEFAULT_DATES)
        catch_up = DEFAULT_CATCH_UP_DAYS
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = (s.strip() for s in item.partition("="))
            if not sep:
                raise ValueError(f"wave date {item!r}: expected name=MM-DD")
            if name == "catch_up_days":
                catch_up = int(value)
                if catch_up < 1:
                    raise ValueError(f"catch_up_days must be at least 1, got {value!r}")
                continue
            if name not in WAVES:
                raise ValueError(f"unknown wave {name!r} in wave dates; waves are {', '.join(WAVES)}")
            try:
                month, day = (int(p) for p in value.split("-"))
                date(2001, month, day)  # a real day of a non-leap year: 02-29 would skip three years in four
            except ValueError as exc:
                raise ValueError(f"wave {name}: {value!r} is not a month-day like 03-01") from exc
            dates[name] = (month, day)
        return cls(dates=dates, catch_up_days=catch_up)

    def due_date(self, wave: str, cohort: int) -> date:
        month, day = self.dates[wave]
        return date(cohort + WAVE_YEAR_OFFSET[wave], month, day)

    def cohort_due(self, wave: str, today: date) -> int | None:
        """The cohort whose `wave` is due on `today` (within the catch-up window), else None."""
        cohort = today.year - WAVE_YEAR_OFFSET[wave]
        start = self.due_date(wave, cohort)
        return cohort if start <= today < start + timedelta(days=self.catch_up_days) else None

    def next_due(self, wave: str, today: date) -> tuple[date, int]:
        """The next due date of `wave` on or after `today`, and its cohort."""
        cohort = today.year - WAVE_YEAR_OFFSET[wave]
        if self.due_date(wave, cohort) < today:
            cohort += 1
        return self.due_date(wave, cohort), cohort
