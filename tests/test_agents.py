"""The agents roster: imported from a file, re-imported safely, switched on and off."""

import csv
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall import demo_data
from recall.calling.agents import (
    AgentFileError,
    AgentView,
    import_agents,
    list_agents,
    set_agent_active,
)
from recall.db.models import Agent
from tests.support import seed

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
TUESDAY = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
HEADER = ["agent_id", "name", "languages", "skills", "capacity", "phone", "active"]
ELODIE = ["A-ELODIE", "Élodie Lefèvre", "fr", "", "2", "06 12 34 56 78", ""]
JEROME = ["A-JEROME", "Jérôme Dupré", "fr,en", "health;escalation", "3", "+33 6 98 76 54 32", "1"]
LOIC = ["A-LOIC", "Loïc Le Goff", "FR", "", "", "", "oui"]


def monday():
    return MONDAY


def tuesday():
    return TUESDAY


def roster(tmp_path, *rows, header=HEADER, sep=",", encoding="utf-8", name="agents.csv"):
    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=sep)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def stored(engine) -> dict[str, Agent]:
    with Session(engine) as session:
        return {a.agent_id: a for a in session.scalars(select(Agent))}


def updated(engine, agent_id) -> dt.datetime:
    """When the agent last changed, in UTC (SQLite hands datetimes back without their zone)."""
    at = stored(engine)[agent_id].updated_at
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def rejects_of(report) -> pd.DataFrame:
    return pd.read_csv(report.rejects_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_a_clean_roster_loads_every_agent(engine, tmp_path):
    report = import_agents(engine=engine, path=roster(tmp_path, ELODIE, JEROME, LOIC), clock=monday)
    assert (report.rows_read, report.added, report.updated, report.unchanged) == (3, 3, 0, 0)
    assert (report.rejected, report.rejects_file) == (0, None)
    assert list_agents(engine=engine) == [
        AgentView("A-ELODIE", "Élodie Lefèvre", ("fr",), (), 2, True, True),
        AgentView(
            "A-JEROME", "Jérôme Dupré", ("fr", "en"), ("health", "escalation"), 3, True, True
        ),
        AgentView("A-LOIC", "Loïc Le Goff", ("fr",), (), 1, True, False),
    ]
    agents = stored(engine)
    assert agents["A-ELODIE"].phone == "+33612345678"
    assert agents["A-JEROME"].skills == "health,escalation"
    assert agents["A-LOIC"].phone is None
    assert updated(engine, "A-LOIC") == MONDAY


def test_reimporting_the_same_roster_changes_nothing(engine, tmp_path):
    path = roster(tmp_path, ELODIE, JEROME, LOIC)
    import_agents(engine=engine, path=path, clock=monday)
    again = import_agents(engine=engine, path=path, clock=tuesday)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert (again.activated, again.deactivated) == ([], [])
    assert {updated(engine, agent_id) for agent_id in stored(engine)} == {MONDAY}


def test_a_newer_roster_updates_agents_in_place_and_says_who_was_switched(engine, tmp_path):
    seed(
        engine,
        Agent(
            agent_id="A-CHLOE", name="Chloé Faure", languages="fr", skills="", capacity=1,
            phone=None, active=False, updated_at=MONDAY,
        ),
        Agent(
            agent_id="A-HERVE", name="Hervé Simon", languages="fr", skills="", capacity=1,
            phone=None, active=True, updated_at=MONDAY,
        ),
    )  # fmt: skip
    import_agents(engine=engine, path=roster(tmp_path, ELODIE, JEROME, LOIC), clock=monday)
    newer = roster(
        tmp_path,
        [*ELODIE[:4], "5", *ELODIE[5:]],
        [*JEROME[:6], "non"],
        LOIC,
        ["A-CHLOE", "Chloé Faure", "fr", "", "1", "", "yes"],
        name="agents-v2.csv",
    )
    report = import_agents(engine=engine, path=newer, clock=tuesday)
    assert (report.added, report.updated, report.unchanged) == (0, 3, 1)
    assert (report.deactivated, report.activated) == (["A-JEROME"], ["A-CHLOE"])
    agents = stored(engine)
    assert (agents["A-ELODIE"].capacity, updated(engine, "A-ELODIE")) == (5, TUESDAY)
    assert agents["A-JEROME"].active is False
    assert updated(engine, "A-LOIC") == MONDAY
    assert (agents["A-HERVE"].active, updated(engine, "A-HERVE")) == (True, MONDAY)


BAD_ROWS = {
    "no-id": (["", "Sans Identifiant", "fr", "", "1", "", ""], "agent_id: required, but empty"),
    "A-NONAME": (["A-NONAME", "", "fr", "", "1", "", ""], "name: required, but empty"),
    "A-MUTE": (["A-MUTE", "Muet", " ", "", "1", "", ""], "languages: at least one language"),
    "A-FRENCH": (
        ["A-FRENCH", "Français", "français", "", "1", "", ""],
        "languages: 'français' is not a 2- or 3-letter language code",
    ),
    "A-SKILL": (
        ["A-SKILL", "Hélène", "fr", "health+", "1", "", ""],
        "skills: 'health+' is not a skill word",
    ),
    "A-ABC": (
        ["A-ABC", "Benoît", "fr", "", "abc", "", ""],
        "capacity: 'abc' is not a whole number from 1 to 10000",
    ),
    "A-ZERO": (
        ["A-ZERO", "Noël", "fr", "", "0", "", ""],
        "capacity: '0' is not a whole number from 1 to 10000",
    ),
    "A-HUGE": (
        ["A-HUGE", "Joël", "fr", "", "10001", "", ""],
        "capacity: '10001' is not a whole number from 1 to 10000",
    ),
    "A-TYPO": (["A-TYPO", "Gaëtan", "fr", "", "1", "12 34", ""], "phone: not a valid phone number"),
    "A-MAYBE": (
        ["A-MAYBE", "Anaïs", "fr", "", "1", "", "peut-être"],
        "active: 'peut-être' is not yes or no",
    ),
    "A-LONG": (["A-LONG", "x" * 201, "fr", "", "1", "", ""], "name: longer than 200 characters"),
}


def test_every_kind_of_bad_row_is_rejected_with_its_reason_and_good_rows_still_load(
    engine, tmp_path
):
    path = roster(tmp_path, ELODIE, *(row for row, _ in BAD_ROWS.values()), JEROME)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("A-SPLIT,Pierre Martin,fr,en,,1,,\n")  # "fr,en" unquoted: one field too many
    report = import_agents(engine=engine, path=path, clock=monday)
    assert (report.rows_read, report.added, report.rejected) == (14, 2, 12)
    assert report.rejects_file == tmp_path / "agents.rejects.csv"
    assert sorted(stored(engine)) == ["A-ELODIE", "A-JEROME"]
    rejects = rejects_of(report)
    assert list(rejects.columns) == [*HEADER, "reject_reason"]
    reasons = dict(zip(rejects["agent_id"], rejects["reject_reason"], strict=True))
    for agent_id, (row, why) in BAD_ROWS.items():
        assert why in reasons[row[0]], agent_id
    assert "has 8 fields, expected 7" in reasons["A-SPLIT,Pierre Martin,fr,en,,1,,"]
    typo = rejects[rejects["agent_id"] == "A-TYPO"].iloc[0]
    assert typo["phone"] == "12 34"  # the original row, as read


def test_a_row_with_several_problems_names_each_field(engine, tmp_path):
    path = roster(tmp_path, ["A-ODD", "", "zz9", "", "-2", "", "?"])
    reason = rejects_of(import_agents(engine=engine, path=path))["reject_reason"].iloc[0]
    assert reason.startswith("name: ")
    assert "; languages: 'zz9'" in reason
    assert "; capacity: '-2'" in reason
    assert "; active: '?'" in reason


def test_a_duplicated_agent_id_keeps_the_first_row(engine, tmp_path):
    twin = ["A-ELODIE", "Élodie Lefèvre-Bis", "en", "", "9", "", ""]
    report = import_agents(engine=engine, path=roster(tmp_path, ELODIE, JEROME, twin))
    assert (report.added, report.rejected) == (2, 1)
    assert stored(engine)["A-ELODIE"].name == "Élodie Lefèvre"
    rejects = rejects_of(report)
    assert rejects["name"].tolist() == ["Élodie Lefèvre-Bis"]
    assert rejects["reject_reason"].iloc[0].startswith("agent_id: 'A-ELODIE' is on an earlier row")


def test_a_rerun_without_bad_rows_removes_the_old_rejects_file(engine, tmp_path):
    bad = roster(tmp_path, ELODIE, ["A-ABC", "Benoît", "fr", "", "abc", "", ""])
    assert import_agents(engine=engine, path=bad).rejects_file is not None
    fixed = roster(tmp_path, ELODIE, ["A-ABC", "Benoît", "fr", "", "2", "", ""])
    assert import_agents(engine=engine, path=fixed).rejects_file is None
    assert not (tmp_path / "agents.rejects.csv").exists()


def test_a_file_without_required_columns_is_one_clear_error_and_nothing_is_written(
    engine, tmp_path
):
    path = roster(tmp_path, ["A-ELODIE", "06 12 34 56 78"], header=["Agent_ID", "phone"])
    with pytest.raises(AgentFileError) as error:
        import_agents(engine=engine, path=path)
    message = str(error.value)
    assert str(path) in message
    assert "name, languages missing" in message
    assert "\n" not in message
    assert stored(engine) == {}
    assert not (tmp_path / "agents.rejects.csv").exists()


def test_a_missing_file_is_one_clear_error(engine, tmp_path):
    with pytest.raises(AgentFileError, match="no such file"):
        import_agents(engine=engine, path=tmp_path / "nowhere.csv")


def test_a_french_excel_export_in_cp1252_with_semicolons_keeps_its_accents(engine, tmp_path):
    header = ["Agent_Id", "NAME", "Languages", "Skills", "Capacity", "Phone", "Active", "Équipe"]
    path = roster(
        tmp_path,
        [
            "A-ELODIE",
            "Élodie Lefèvre",
            "FR | EN",
            "santé escalade",
            "2",
            "06.12.34.56.78",
            "Oui",
            "Lyon",
        ],
        ["A-FRANCOISE", "Françoise D'Angelo", "fr;en;fr", "", "1", "0033698765432", "NON", "Gap"],
        header=header,
        sep=";",
        encoding="cp1252",
    )
    report = import_agents(engine=engine, path=path, clock=monday)
    assert (report.added, report.rejected) == (2, 0)
    views = {v.agent_id: v for v in list_agents(engine=engine)}
    assert views["A-ELODIE"].name == "Élodie Lefèvre"
    assert views["A-ELODIE"].languages == ("fr", "en")
    assert views["A-ELODIE"].skills == ("santé", "escalade")
    assert views["A-FRANCOISE"].name == "Françoise D'Angelo"
    assert views["A-FRANCOISE"].languages == ("fr", "en")
    assert views["A-FRANCOISE"].active is False
    assert stored(engine)["A-FRANCOISE"].phone == "+33698765432"


def test_a_utf8_file_with_a_bom_and_tabs_reads_its_first_column(engine, tmp_path):
    path = roster(tmp_path, LOIC, sep="\t", encoding="utf-8-sig")
    assert import_agents(engine=engine, path=path).added == 1
    assert stored(engine)["A-LOIC"].name == "Loïc Le Goff"


def test_switching_an_agent_on_and_off_says_whether_it_changed(engine, tmp_path):
    import_agents(engine=engine, path=roster(tmp_path, ELODIE), clock=monday)
    assert set_agent_active(engine=engine, agent_id="A-ELODIE", active=False, clock=tuesday)
    assert updated(engine, "A-ELODIE") == TUESDAY
    assert not set_agent_active(engine=engine, agent_id="A-ELODIE", active=False)
    assert list_agents(engine=engine)[0].active is False
    assert set_agent_active(engine=engine, agent_id="A-ELODIE", active=True)
    with pytest.raises(LookupError, match="A-NOBODY"):
        set_agent_active(engine=engine, agent_id="A-NOBODY", active=True)


def test_the_demo_roster_imports_without_a_single_reject(engine, tmp_path):
    path = demo_data.write_agents(tmp_path / "demo")
    assert path.read_bytes().startswith(b"agent_id;name;")
    report = import_agents(engine=engine, path=path)
    assert (report.added, report.rejected) == (12, 0)
    agents = list_agents(engine=engine)
    assert all(a.active and a.has_phone and "fr" in a.languages for a in agents)
    assert 1 <= sum("en" in a.languages for a in agents) <= 4
    assert [a.agent_id for a in agents if a.skills] == [agents[0].agent_id]
    assert agents[0].skills == ("health", "escalation")
    assert {a.capacity for a in agents} <= {1, 2, 3}
    assert all(a.phone.startswith("+33") for a in stored(engine).values())
    assert demo_data.write_agents(tmp_path / "again").read_bytes() == path.read_bytes()
