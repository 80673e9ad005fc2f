"""The one family of errors a user can act on, in three kinds.

Each entry point maps the kinds once: the console to an HTTP status (`recall/web/app.py`),
the command line to an exit code and one line (`recall/cli/__init__.py`). Anything else that
escapes is a bug: a 500 with its traceback in the log, never a "not found".
"""

from __future__ import annotations


class RecallError(Exception):
    """What went wrong, said in one line to the person who can fix it."""


class NotFound(RecallError, LookupError):
    """What was named does not exist, or is not this user's to see."""


class Refused(RecallError, ValueError):
    """The request is understood but can't be done as asked: bad input, a rule, a state."""


class Unavailable(RecallError, RuntimeError):
    """Something we rely on (the flow engine, the phone provider, a file) failed; retry later."""


class RecallNotFound(NotFound):
    def __init__(self, recall_id: str) -> None:
        super().__init__(f"no recall {recall_id!r} has been launched")
        self.recall_id = recall_id
