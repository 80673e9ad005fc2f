import pytest

from recall.domain.cases import IllegalTransition, Status, check_transition, choose_channels, replay


def test_the_main_path_is_allowed():
    assert replay(["identified", "notified", "contacted", "resolved"]) is Status.RESOLVED


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("identified", "resolved"),
        ("identified", "contacted"),
        ("resolved", "notified"),
        (None, "notified"),
        ("notified", "declined"),
    ],
)
def test_transitions_outside_the_lifecycle_are_refused(old, new):
    with pytest.raises(IllegalTransition, match="can't go from"):
        check_transition(old, new)


def test_escalation_and_decline_follow_contact():
    assert replay(["identified", "notified", "contacted", "escalated", "resolved"])
    assert replay(["identified", "notified", "contacted", "declined"]) is Status.DECLINED


def test_unreachable_ends_the_road_unless_the_customer_gets_in_touch():
    assert replay(["identified", "notified", "unreachable", "contacted"]) is Status.CONTACTED
    with pytest.raises(IllegalTransition):
        check_transition("unreachable", "resolved")


def test_unknown_status_is_refused():
    with pytest.raises(IllegalTransition, match="unknown status"):
        check_transition("identified", "lost")


def test_a_case_with_an_address_gets_a_letter_and_no_call_by_default():
    c = choose_channels(
        has_address=True, has_phone=True, do_not_call=False, call_policy="without_letter"
    )
    assert (c.letter, c.call, c.notice_only) == (True, False, False)


def test_call_policy_all_calls_letter_cases_too():
    c = choose_channels(has_address=True, has_phone=True, do_not_call=False, call_policy="all")
    assert (c.letter, c.call) == (True, True)


def test_do_not_call_customers_are_never_called():
    for policy in ("all", "without_letter"):
        c = choose_channels(has_address=False, has_phone=True, do_not_call=True, call_policy=policy)
        assert not c.call and c.notice_only


def test_without_address_or_phone_a_case_is_notice_only():
    c = choose_channels(has_address=False, has_phone=False, do_not_call=False, call_policy="all")
    assert c.notice_only
