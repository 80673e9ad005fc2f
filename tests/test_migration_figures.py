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


def recall_row(connection) -> None:
    connection.execute(
        text(
            "INSERT INTO recalls (id, title, hazard, definition, launched_at, already_returned, "
            "untraceable_units, unknown_customer_units) VALUES ('R-OLD', 't', 'high', '', :t, 0, "
            "0, 0)"
        ),
        {"t": T0},
    )


def called(connection, case_id, minutes, disposition):
    connection.execute(
        text(
            "INSERT INTO call_attempts (case_id, agent_id, started_at, disposition) "
            "VALUES (:c, 'A1', :at, :d)"
        ),
        {"c": case_id, "at": T0 + dt.timedelta(minutes=minutes), "d": disposition},
    )


def lettered(connection, case_id, batch, minutes, returned=False):
    connection.execute(
        text(
            "INSERT INTO letter_batches (recall_id, batch_no, file, letters, planned_at) "
            "VALUES ('R-OLD', :b, :f, 1, :at)"
        ),
        {"b": batch, "f": f"letters-{batch:04d}.pdf", "at": T0 + dt.timedelta(minutes=minutes)},
    )
    connection.execute(
        text(
            "INSERT INTO letters (case_id, recall_id, batch_no, position, language, returned_at) "
            "VALUES (:c, 'R-OLD', :b, 1, 'fr', :back)"
        ),
        {"c": case_id, "b": batch, "back": T0 + dt.timedelta(days=2) if returned else None},
    )


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
        recall_row(c)
        # An unanswered call made the case "notified".
        unanswered = old_case(c, 1, "notified", letter=False, call=True)
        called(c, unanswered, 1, "no_answer")
        event(c, unanswered, None, "identified", None, "identified at launch")
        event(c, unanswered, "identified", "notified", "phone", "call: no_answer", 1)
        # Reached: contacted then resolved; stays as it is, notified by phone.
        reached = old_case(c, 2, "resolved", letter=False, call=True, outcome="refund")
        called(c, reached, 1, "reached")
        event(c, reached, None, "identified", None, "identified at launch")
        event(c, reached, "identified", "notified", "phone", "call: reached", 1)
        event(c, reached, "notified", "contacted", "phone", "call: reached", 1)
        event(c, reached, "contacted", "resolved", "phone", "outcome: refund", 2)
        # A do-not-call recorded as declined.
        refused = old_case(c, 3, "declined", letter=False, call=False)
        called(c, refused, 1, "do_not_call")
        event(c, refused, None, "identified", None, "identified at launch")
        event(c, refused, "identified", "notified", "phone", "asked not to be called", 1)
        event(c, refused, "notified", "contacted", "phone", "asked not to be called", 1)
        event(c, refused, "contacted", "declined", "phone", "asked not to be called", 1)
        # A letter posted: notified by letter, and it started as a letter case.
        posted = old_case(c, 4, "notified", letter=True, call=False)
        lettered(c, posted, 1, 0)
        event(c, posted, None, "identified", None, "identified at launch")
        event(c, posted, "identified", "notified", "letter", "letter posted by the print house", 1)
        # A call case that ran out of attempts and got a letter instead.
        moved = old_case(c, 5, "notified", letter=True, call=False)
        called(c, moved, 1, "no_answer")
        lettered(c, moved, 2, 3)  # planned after the calls
        event(c, moved, None, "identified", None, "identified at launch")
        event(c, moved, "identified", "notified", "phone", "call: no_answer", 1)
        event(c, moved, "notified", "notified", "phone", "5 calls without an answer: a letter "
              "will be sent", 2)  # fmt: skip
        # A letter came back; the customer was then reached by phone.
        back = old_case(c, 6, "contacted", letter=True, call=True)
        lettered(c, back, 3, 0, returned=True)
        called(c, back, 4000, "reached")
        event(c, back, None, "identified", None, "identified at launch")
        event(c, back, "identified", "notified", "letter", "letter posted by the print house", 1)
        event(c, back, "notified", "notified", "letter", "letter returned undelivered: moved "
              "to the call list", 3000)  # fmt: skip
        event(c, back, "notified", "contacted", "phone", "call: reached", 4000)
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
            6: ("contacted", "phone", "letter", None),  # the letter came back: the call reached
        }
        assert cases[2].agreed_at is not None and cases[1].agreed_at is None
        for case_id, case in cases.items():
            log = session.query(CaseEvent).filter_by(case_id=case_id).order_by(CaseEvent.id).all()
            assert replay([e.new_status for e in log]) == case.status
            assert [e.actor for e in log].count("migration-0015") == (case_id in (1, 3, 5))
        assert all(e.actor in ("old", "migration-0015") for e in session.query(CaseEvent))
