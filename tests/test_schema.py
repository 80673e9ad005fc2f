"""The migrations build exactly the schema the models describe, and come back down."""

import re
import warnings

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from recall.db.engine import alembic_config, current_revision, head_revision, upgrade
from recall.db.models import Base
from recall.domain.calling import WORKABLE


def test_the_migrated_schema_is_the_models_schema(engine):
    with warnings.catch_warnings():  # SQLite's expression indexes can't be compared: see below
        warnings.filterwarnings("ignore", message=".*expression-based index")
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_expression_index_of_the_models_is_built_by_the_migrations(engine):
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_customers_email_lower'"
        else:
            sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customers_email_lower'"
        definition = connection.scalar(text(sql))
    assert definition is not None
    assert re.search(r"lower\(\(?email\)?(::text)?\)", definition.lower())


def test_the_newest_migrations_come_down_and_up_again(engine):
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert current_revision(engine) == "0007"
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_the_call_queue_triggers_know_exactly_the_domains_workable_statuses(engine):
    """The triggers keeping the call queue (migrations 0006, 0011) spell the workable statuses
    in SQL; they must be the domain's, or a case would be queued (or dropped) wrongly."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            sql = connection.scalar(
                text(
                    "SELECT string_agg(pg_get_functiondef(t.tgfoid), ' ') FROM pg_trigger t "
                    "WHERE t.tgrelid = 'cases'::regclass AND NOT t.tgisinternal"
                )
            )
        else:
            sql = " ".join(
                connection.scalars(
                    text(
                        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name='cases'"
                    )
                )
            )
    spelled = re.findall(r"status IN \(([^)]*)\)", sql or "", flags=re.IGNORECASE)
    assert spelled, "no trigger on cases names the workable statuses"
    workable = {status.value for status in WORKABLE}
    for statuses in spelled:
        assert {s.strip().strip("'") for s in statuses.split(",")} == workable
