"""A crash point for the tests of an interrupted Aussonderung (real `kill -9` of the process).

`EAKTE_FAULT_KILL_AFTER_DELETES=n` makes the process SIGKILL itself after deleting its n-th
object; unset (always, outside those tests) it does nothing.
"""

from __future__ import annotations

import os
import signal

_deleted = 0


def object_deleted() -> None:
    """Count one deleted object; die hard when the configured count is reached."""
    global _deleted
    limit = os.environ.get("EAKTE_FAULT_KILL_AFTER_DELETES")
    if not limit:
        return
    _deleted += 1
    if _deleted >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)
