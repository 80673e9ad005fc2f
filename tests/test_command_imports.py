"""Commands pay only for what they use: what each `recall` command loads, in a fresh process."""

import json
import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory

from recall.db.engine import alembic_config, head_revision

HEAVY = ("pandas", "prefect", "alembic", "reportlab", "numpy", "pyarrow", "jinja2", "fastapi")
PROBE = """
import json, sys
from recall.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})), file=sys.__stderr__)
"""


def loaded_by(tmp_path, *args: str) -> set[str]:
    """The top-level modules a command has imported by the time it ends."""
    env = {"RECALL_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_loads_no_heavy_library(tmp_path):
    assert not loaded_by(tmp_path, "--help") & set(HEAVY)


@pytest.mark.parametrize(
    "command",
    [
        ["status", "R-2026-014"],
        ["users", "list"],
        ["calls", "next", "--agent", "A1"],
        ["agents", "list"],
        ["cases", "R-2026-014", "--csv", "cases.csv"],
        ["assign", "R-2026-014"],
    ],
)
def test_commands_that_run_no_flow_load_no_prefect(tmp_path, command):
    loaded = loaded_by(tmp_path, *command)
    assert "sqlalchemy" in loaded  # it did reach the database
    assert "prefect" not in loaded


def test_a_current_schema_is_checked_without_loading_alembic(tmp_path):
    loaded_by(tmp_path, "users", "list")  # the first command migrates the new database
    assert "alembic" not in loaded_by(tmp_path, "users", "list")


def test_the_head_read_from_the_files_is_alembic_s_own():
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
