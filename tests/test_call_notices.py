"""Which calls are notices: only one that reached the customer, or a message left where the
recall counts it; everything else is an attempt (the rules, without a database)."""

import datetime as dt

import pytest

from recall.domain.calling import CallState, Disposition, plan_disposition
from recall.domain.cases import Status
from recall.domain.definition import CallPolicy

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


DEFAULT = CallPolicy()


def plan(disposition, status=Status.IDENTIFIED, policy=DEFAULT, **more):
    state = CallState(status, attempts=0, has_address=False, letter_sent=False,
                      letter_returned=False)  # fmt: skip
    return plan_disposition(state, Disposition(disposition), now=NOW, policy=policy, **more)


@pytest.mark.parametrize("disposition", ["no_answer", "busy", "voicemail"])
def test_an_unanswered_call_is_an_attempt_not_a_notice(disposition):
    attempt = plan(disposition, callback_at=NOW - dt.timedelta(days=1))  # a stale field: ignored
    assert (attempt.statuses, attempt.counts) == ((), True)


def test_a_voicemail_notifies_only_where_the_recall_says_so_and_a_message_was_left():
    counted = CallPolicy(voicemail_notifies=True)
    assert plan("voicemail", policy=counted).statuses == (Status.NOTIFIED,)
    assert plan("voicemail", policy=counted, message_left=False).statuses == ()


def test_a_reached_customer_is_notified_and_contacted_and_may_ask_for_another_time():
    talked = plan("reached", callback_at=LATER)
    assert talked.statuses == (Status.NOTIFIED, Status.CONTACTED)
    assert (talked.callback, talked.next_call_at) == (True, LATER)
    assert plan("callback_requested", callback_at=LATER).statuses == ()  # someone else answered


def test_do_not_call_is_its_own_outcome_unless_the_case_already_has_one():
    refused = plan("do_not_call")
    assert refused.statuses == (Status.NOTIFIED, Status.CONTACTED)
    assert (refused.outcome, refused.leave_call_list, refused.do_not_call) == (
        "do_not_call", True, True,
    )  # fmt: skip
    for settled in (Status.DECLINED, Status.ESCALATED):
        kept = plan("do_not_call", status=settled)
        assert (kept.statuses, kept.outcome, kept.do_not_call) == ((), None, True)


def test_a_wrong_number_reaches_nobody():
    wrong = plan("wrong_number")
    assert wrong.statuses == (Status.UNREACHABLE,) and not wrong.counts
