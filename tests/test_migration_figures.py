"""Migration 0015 brings cases recorded under the old wording to the contract's: an unanswered
call or a returned letter is not a notice, a do-not-call is not a refusal, and each case keeps
the channel it started with; the log is only appended to."""

import datetime as dt

from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from recall.db.engine import alembic_config, current_revision, head_revision, upgrade
from recall.db.models import Case, CaseEvent
from recall.domain.cases import replay

T0 = dt.datetime(2026, 11, 2, 9, 0)


def migrate(engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def old_case(connection, n: int, status: str, *, letter: bool, call: bool, outcome=None) -> int:
    connection.execute(
        text(
            "INSERT INTO cases (id, recall_id, customer_id, seq, case_ref, status, quantity, lots, "
            "skus, stores, first_purchase, last_purchase, letter, call, notice_only, "
            "phone_invalid, language, created_at, updated_at, attempts, outcome) VALUES "
            "(:n, 'R-OLD', :c, :n, :ref, :s, 1, '', '', '', '2026-01-01', '2026-01-01', :letter, "
            ":call, :notice, FALSE, 'fr', :t, :t, 0, :outcome)"
        ),
        {"n": n, "c": f"C{n}", "ref": f"R-OLD-{n:06d}", "s": status, "letter": letter,
         "call": call, "notice": not letter and not call, "t": T0, "outcome": outcome},
    )  # fmt: skip
    return n


def event(connection, case_id, old, new, channel, note, minutes=0):
    connection.execute(
        text(
            "INSERT INTO case_events (case_id, at, actor, channel, old_status, new_status, note) "
            "VALUES (:c, :at, 'old', :ch, :old, :new, :note)"
        ),
        {"c": case_id, "at": T0 + dt.timedelta(minutes=minutes), "ch": channel, "old": old,
         "new": new, "note": note},
    )  # fmt: skip


def test_old_figures_are_corrected_by_appending_to_the_log(engine):
    migrate(engine, "0014")
    assert current_revision(engine) == "0014"
    with engine.begin() as c:
        # An unanswered call made the case "notified".
        unanswered = old_case(c, 1, "notified", letter=False, call=True)
        event(c, unanswered, None, "identified", None, "identified at launch")
        event(c, unanswered, "identified", "notified", "phone", "call: no_answer", 1)
        # Reached: contacted then resolved; stays as it is, notified by phone.
        reached = old_case(c, 2, "resolved", letter=False, call=True, outcome="refund")
        event(c, reached, None, "identified", None, "identified at launch")
        event(c, reached, "identified", "notified", "phone", "call: reached", 1)
        event(c, reached, "notified", "contacted", "phone", "call: reached", 1)
        event(c, reached, "contacted", "resolved", "phone", "outcome: refund", 2)
        # A do-not-call recorded as declined.
        refused = old_case(c, 3, "declined", letter=False, call=False)
        event(c, refused, None, "identified", None, "identified at launch")
        event(c, refused, "identified", "notified", "phone", "asked not to be called", 1)
        event(c, refused, "notified", "contacted", "phone", "asked not to be called", 1)
        event(c, refused, "contacted", "declined", "phone", "asked not to be called", 1)
        # A letter posted: notified by letter, and it started as a letter case.
        posted = old_case(c, 4, "notified", letter=True, call=False)
        event(c, posted, None, "identified", None, "identified at launch")
        event(c, posted, "identified", "notified", "letter", "letter posted by the print house", 1)
        # A call case that ran out of attempts and got a letter instead.
        moved = old_case(c, 5, "notified", letter=True, call=False)
        event(c, moved, None, "identified", None, "identified at launch")
        event(c, moved, "identified", "notified", "phone", "call: no_answer", 1)
        event(c, moved, "notified", "notified", "phone", "5 calls without an answer: a letter "
              "will be sent", 2)  # fmt: skip
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with Session(engine) as session:
        cases = {case.id: case for case in session.query(Case)}
        found = {n: (c.status, c.notified_by, c.first_channel, c.outcome) for n, c in cases.items()}
        assert found == {
            1: ("identified", None, "call", None),
            2: ("resolved", "phone", "call", "refund"),
            3: ("contacted", "phone", "call", "do_not_call"),
            4: ("notified", "letter", "letter", None),
            5: ("identified", None, "call", None),  # the letter was never posted
        }
        assert cases[2].agreed_at is not None and cases[1].agreed_at is None
        for case_id, case in cases.items():
            log = session.query(CaseEvent).filter_by(case_id=case_id).order_by(CaseEvent.id).all()
            assert replay([e.new_status for e in log]) == case.status
            assert [e.actor for e in log].count("migration-0015") == (case_id in (1, 3, 5))
