"""The migrations build exactly the schema the models describe, and come back down."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from recall.db.engine import alembic_config, current_revision, head_revision, upgrade
from recall.db.models import Base


def test_the_migrated_schema_is_the_models_schema(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_newest_migrations_come_down_and_up_again(engine):
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert current_revision(engine) == "0007"
    upgrade(engine)
    assert current_revision(engine) == head_revision()
