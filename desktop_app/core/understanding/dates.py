"""Periods named in a query: "2019", "July 2023", "summer 2021", "last year", "christmas 2022".

Relative and calendar expressions ("yesterday", "last week", "July 2023", "5 March 2021") are
read by parsedatetime; what it has no notion of (a bare year, seasons, holidays, decades) is
read here first. Only a period that is certain becomes a filter: a month or a day without its
year ("may flowers", "a July 4th parade") is a subject, not a date, and so is a future period.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import parsedatetime

from desktop_app.core.understanding.records import DatePart

_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
    "july|august|september|october|november|december"
)
_MONTH_WORD = re.compile(rf"\b(?:{_MONTHS})\b", re.IGNORECASE)
_YEAR_IN = re.compile(r"\b(?:19|20)\d\d\b")
_NUMERIC_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}")
# parsedatetime is asked only when a word it could read is there (most queries have none).
_GATE = re.compile(
    rf"\b(?:{_MONTHS}|yesterday|today|week|weeks|month|months|year|years|ago|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|\d{4}-\d\d-\d\d)\b",
    re.IGNORECASE,
)
# Words before a period that belong to it: "in July 2023", "from last year", "during the 90s".
_LEAD = r"(?:\b(?:in|from|during|on|of|since|taken)\s+)?(?:\bthe\s+)?"
_TAIL = r"(?![\w-]|[/.]\d)"

_YEAR = re.compile(rf"{_LEAD}(?<![\w\-/.])(?P<year>(?:19|20)\d\d){_TAIL}", re.IGNORECASE)
_DECADE = re.compile(
    rf"{_LEAD}(?<![\w\-/.])(?:(?P<century>19|20)(?P<d4>\d)0|'?(?P<d2>\d)0)'?s{_TAIL}",
    re.IGNORECASE,
)
_SEASONS = {
    "spring": (3, 5),
    "summer": (6, 8),
    "autumn": (9, 11),
    "fall": (9, 11),
    "winter": (12, 2),
}
_SEASON = re.compile(
    rf"{_LEAD}\b(?:(?P<rel>last|this)\s+)?(?P<season>spring|summer|autumn|fall|winter)"
    rf"(?:\s+(?:of\s+)?(?P<year>(?:19|20)\d\d))?{_TAIL}",
    re.IGNORECASE,
)
_HOLIDAY = re.compile(
    rf"{_LEAD}\b(?P<holiday>christmas|xmas|new year'?s eve|new year'?s day|halloween|easter|"
    r"valentine'?s day|thanksgiving)\s+(?:of\s+)?(?P<year>(?:19|20)\d\d)" + _TAIL,
    re.IGNORECASE,
)

_CALENDAR = parsedatetime.Calendar(version=parsedatetime.VERSION_CONTEXT_STYLE)
_ACU = parsedatetime.pdtContext


@dataclass(frozen=True)
class Found:
    """A period found in a query, with where it stands in the text."""

    part: DatePart
    start: int
    end: int


def find_period(text: str, masked: str, now: datetime) -> Found | None:
    """The first certain period in ``masked`` (``text`` with quotes etc. blanked), or None."""
    for finder in (_holiday, _season, _decade, _relative, _year):
        found = finder(text, masked, now)
        if found is not None:
            return found
    return None


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _day_end(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 23, 59, 59, 999999)


def _found(
    text: str, m: re.Match[str], label: str, first: date, last: date, now: datetime
) -> Found | None:
    if _day_start(first) > now:  # photos are not taken in the future
        return None
    part = DatePart(text[m.start() : m.end()].strip(), label, _day_start(first), _day_end(last))
    return Found(part, m.start(), m.end())


def _year(text: str, masked: str, now: datetime) -> Found | None:
    for m in _YEAR.finditer(masked):
        year = int(m["year"])
        found = _found(text, m, str(year), date(year, 1, 1), date(year, 12, 31), now)
        if found is not None:
            return found
    return None


def _decade(text: str, masked: str, now: datetime) -> Found | None:
    m = _DECADE.search(masked)
    if m is None:
        return None
    if m["century"]:
        first_year = int(m["century"] + m["d4"] + "0")
    else:
        first_year = (2000 if int(m["d2"]) <= 2 else 1900) + 10 * int(m["d2"])
    label = f"the {first_year}s"
    return _found(text, m, label, date(first_year, 1, 1), date(first_year + 9, 12, 31), now)


def _season(text: str, masked: str, now: datetime) -> Found | None:
    for m in _SEASON.finditer(masked):
        first_month, last_month = _SEASONS[m["season"].lower()]
        if m["year"]:
            year = int(m["year"])
        elif m["rel"]:  # "this summer": the one begun last; "last summer": the one ended last
            year = now.year
            bound = _season_end if m["rel"].lower() == "last" else _season_start
            while bound(year, first_month, last_month) > now:
                year -= 1
        else:
            continue  # "fall colours", "winter coat": a subject, not a date
        last_year = year + 1 if last_month < first_month else year
        last_day = calendar.monthrange(last_year, last_month)[1]
        label = f"{m['season'].lower()} {year}"
        found = _found(
            text, m, label, date(year, first_month, 1), date(last_year, last_month, last_day), now
        )
        if found is not None:
            return found
    return None


def _season_start(year: int, first_month: int, _last_month: int) -> datetime:
    return datetime(year, first_month, 1)


def _season_end(year: int, first_month: int, last_month: int) -> datetime:
    end_year = year + 1 if last_month < first_month else year
    return _day_end(date(end_year, last_month, calendar.monthrange(end_year, last_month)[1]))


def _holiday(text: str, masked: str, now: datetime) -> Found | None:
    m = _HOLIDAY.search(masked)
    if m is None:
        return None
    year = int(m["year"])
    name = m["holiday"].lower().replace("'", "")
    if name in ("christmas", "xmas"):
        first, last, label = date(year, 12, 24), date(year, 12, 26), f"Christmas {year}"
    elif name == "new years eve":
        first = last = date(year, 12, 31)
        label = f"New Year's Eve {year}"
    elif name == "new years day":
        first = last = date(year, 1, 1)
        label = f"New Year's Day {year}"
    elif name == "halloween":
        first = last = date(year, 10, 31)
        label = f"Halloween {year}"
    elif name == "valentines day":
        first = last = date(year, 2, 14)
        label = f"Valentine's Day {year}"
    elif name == "easter":
        sunday = easter_sunday(year)
        first, last, label = (
            sunday - timedelta(days=2),
            sunday + timedelta(days=1),
            f"Easter {year}",
        )
    else:  # thanksgiving (US): the fourth Thursday of November, and the weekend after it
        first_thursday = 1 + (3 - date(year, 11, 1).weekday()) % 7
        first = date(year, 11, first_thursday + 21)
        last, label = first + timedelta(days=3), f"Thanksgiving {year}"
    return _found(text, m, label, first, last, now)


def easter_sunday(year: int) -> date:
    """Western Easter Sunday of ``year`` (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _relative(text: str, masked: str, now: datetime) -> Found | None:
    """Calendar and relative expressions, read by parsedatetime."""
    if not _GATE.search(masked):
        return None
    found = _CALENDAR.nlp(masked, sourceTime=now.timetuple())
    for when, context, start, end, words in found or ():
        if not context.hasDate:
            continue  # a time of day ("at 5pm", "morning")
        named = _MONTH_WORD.search(words) or _NUMERIC_DATE.search(words)
        if named and not _YEAR_IN.search(words):
            continue  # "may flowers", "a July 4th parade": no year, so a subject
        period = _period(when, context.accuracy)
        if period is None:
            continue
        first, last, label = period
        if _day_start(first) > now:
            continue
        lead = re.search(
            r"(?:\b(?:in|from|during|on|of|since|taken)\s+)?(?:\bthe\s+)?$", masked[:start]
        )
        begin = lead.start() if lead else start
        part = DatePart(
            text[begin:end].strip(), _label(words, label), _day_start(first), _day_end(last)
        )
        return Found(part, begin, end)
    return None


def _period(when: datetime, accuracy: int) -> tuple[date, date, str] | None:
    """The day, week, month or year that ``when`` stands for at parsedatetime's accuracy."""
    day = when.date()
    if accuracy & _ACU.ACU_DAY:
        return day, day, day.strftime("%-d %B %Y")
    if accuracy & _ACU.ACU_WEEK:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6), f"week of {monday.strftime('%-d %B %Y')}"
    if accuracy & _ACU.ACU_MONTH:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last), day.strftime("%B %Y")
    if accuracy & _ACU.ACU_YEAR:
        return date(day.year, 1, 1), date(day.year, 12, 31), str(day.year)
    return None


def _label(words: str, computed: str) -> str:
    """The label shown: the period's own name, with the words typed when they were relative."""
    typed = " ".join(words.split())
    if _MONTH_WORD.search(typed) or _YEAR_IN.search(typed):
        return computed
    typed = re.sub(r"^(?:in|from|during|on|of|since|taken)\s+", "", typed, flags=re.IGNORECASE)
    return f"{typed} ({computed})"
