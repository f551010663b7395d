"""China's working-day calendar as a table (DOMAIN.md §7): seeded from chinesecalendar, edited by a
court administrator when the State Council's yearly notice is out."""

from blacklist.holidays.models import DaySource, Holiday
from blacklist.holidays.services import (
    CalendarDay,
    YearView,
    clear_day,
    invalidate_calendar_cache,
    load_calendar,
    seed_from_chinesecalendar,
    set_day,
    year_view,
)

__all__ = [
    "CalendarDay",
    "DaySource",
    "Holiday",
    "YearView",
    "clear_day",
    "invalidate_calendar_cache",
    "load_calendar",
    "seed_from_chinesecalendar",
    "set_day",
    "year_view",
]
