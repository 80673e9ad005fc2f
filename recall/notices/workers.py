"""Rendering worker processes that end with the launch that started them."""

from __future__ import annotations

import os
import threading
import time

POLL_SECONDS = 0.5


def die_with(parent: int) -> None:
    """A worker's initializer: end the worker at once when `parent` is gone. A launch killed
    with kill -9 can't stop its pool, and a worker mid-batch would go on writing a PDF that
    nothing records (the relaunch draws that batch again)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-launch", daemon=True).start()
