"""Roles and login throttling as plain rules."""

import datetime as dt

from recall.accounts.users import check_password, hash_password
from recall.domain.access import ThrottlePolicy, after_failure, home_of, locked, may_enter

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
POLICY = ThrottlePolicy(limit=3, window=dt.timedelta(minutes=15), lockout=dt.timedelta(minutes=15))


def test_each_role_enters_only_its_areas():
    assert may_enter("agent", "calls") and not may_enter("agent", "reports")
    assert may_enter("reporting", "reports") and not may_enter("reporting", "lead")
    assert may_enter("admin", "lead") and may_enter("lead", "reports")
    assert not may_enter("lead", "calls")  # a lead has no call list of their own
    assert home_of("agent") == "/my/list" and home_of("reporting") == "/reports"


def test_the_limit_th_failure_within_the_window_locks_the_key():
    failures = None
    for minute in range(3):
        failures = after_failure(failures, POLICY, T0 + dt.timedelta(minutes=minute))
    assert locked(failures, T0 + dt.timedelta(minutes=3)) == T0 + dt.timedelta(minutes=17)
    assert locked(failures, T0 + dt.timedelta(minutes=18)) is None


def test_failures_spread_beyond_the_window_never_lock():
    failures = None
    for step in range(6):
        failures = after_failure(failures, POLICY, T0 + dt.timedelta(minutes=16 * step))
        assert locked(failures, T0 + dt.timedelta(minutes=16 * step)) is None


def test_a_password_hash_is_salted_and_checks_only_its_password():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert check_password("correct horse", first) and check_password("correct horse", second)
    assert not check_password("correct horsE", first)
    assert not check_password("correct horse", "not a hash")
