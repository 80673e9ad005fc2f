"""Days as people type them, for --on and the files' dates."""

import datetime as dt

import pytest

from recall.domain.remedies import RemedyError, day
from recall.domain.typed_days import UnreadableDay, read_typed_day

SATURDAY = dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    "typed",
    ["2026-12-01", "01/12/2026", "1/12/2026", "1.12.2026", "01-12-2026", "1er décembre 2026",
     "1 decembre 2026", "1 déc. 2026", "Dec 1, 2026", "December 1 2026", " 1  DÉC  2026 ",
     "2026-12-01 10:30", "2026-12-01T10:30+01:00"],
)  # fmt: skip
def test_the_first_of_december_as_people_write_it(typed):
    assert read_typed_day(typed, today=SATURDAY) == dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("typed", "back"),
    [("aujourd'hui", 0), ("aujourd’hui", 0), ("today", 0), ("hier", 1), ("Yesterday", 1),
     ("avant-hier", 2)],
)  # fmt: skip
def test_days_said_in_words_count_back_from_today(typed, back):
    assert read_typed_day(typed, today=SATURDAY) == SATURDAY - dt.timedelta(days=back)


@pytest.mark.parametrize("typed", ["3 févr. 2026", "3 fevrier 2026", "Feb 3, 2026", "3/2/2026"])
def test_february_in_both_languages(typed):
    assert read_typed_day(typed, today=SATURDAY) == dt.date(2026, 2, 3)


@pytest.mark.parametrize("typed", ["31/02/2026", "2026-13-01", "30 février 2026"])
def test_a_day_the_calendar_lacks_is_refused(typed):
    with pytest.raises(UnreadableDay, match="no such day in the calendar"):
        read_typed_day(typed, today=SATURDAY)


@pytest.mark.parametrize("typed", ["demain matin", "1 foo 2026", "12/2026", ""])
def test_what_is_not_a_day_is_refused_with_the_forms_it_may_take(typed):
    with pytest.raises(UnreadableDay, match="write it as 2026-12-01, 01/12/2026"):
        read_typed_day(typed, today=SATURDAY)


def test_a_remedy_day_names_its_field_and_refuses_the_future():
    assert day("hier", "done_on", today=SATURDAY) == dt.date(2026, 12, 4)
    with pytest.raises(RemedyError, match="done_on"):
        day("31/02/2026", "done_on", today=SATURDAY)
    with pytest.raises(RemedyError, match="future"):
        day("2026-12-06", "done_on", today=SATURDAY)
