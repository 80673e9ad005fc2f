"""One import of the benchmark, in a process of its own so that its peak memory is its own:

    python -m benchmarks.import_step DATABASE_URL customers=path [purchases=path ...]

prints one JSON line: rows read, seconds (the import alone, not the interpreter's start) and
the peak resident set of this process or its checking process, in MB.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from recall.db.engine import make_engine
from recall.importing.service import import_export


def main() -> None:
    url, *tables = sys.argv[1:]
    files = {name: Path(path) for name, path in (table.split("=", 1) for table in tables)}
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        # The same start as the bare COPY it is compared with: the dirty pages of the import
        # before (the customers) are not written on this import's clock.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CHECKPOINT")
    started = time.perf_counter()
    report = import_export(engine=engine, files=files)
    seconds = time.perf_counter() - started
    engine.dispose()
    peak_kb = max(resource.getrusage(who).ru_maxrss
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))  # fmt: skip
    rows = sum(table.rows_read for table in report.tables)
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak_kb / 1024}))


if __name__ == "__main__":
    main()
