"""Leases: which servers and commands still hold their runs.

    store.register_instance(instance_id)      # a server or command that trains starts its lease
    store.renew_instance(instance_id)         # every LEASE_SECONDS / 5
    store.end_instance(instance_id, reason)   # its active runs become interrupted
    store.interrupt_expired()                 # runs whose holder's lease expired: interrupted

Every server or command that trains registers an instance and renews its heartbeat every few
seconds. A queued or running run belongs to an instance; once that instance's heartbeat is older
than LEASE_SECONDS, the run is interrupted, wherever its process was. A bare process id would
not do: in a container the server is always process 1, alive or not.

`InstanceLeases` is part of `RunStore` (explorer.store.registry), which gives it `_connect` and
`runs_dir`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time

from explorer.store.records import ACTIVE_STATUSES, Status, sql_statuses

# The SQL spelling of "queued or running".
_ACTIVE = sql_statuses(ACTIVE_STATUSES)
# A lease not renewed for this long has expired. Holders renew every LEASE_SECONDS / 5.
LEASE_SECONDS = 15.0
# Instances registered by this process: a row with this process's id and host that is not one
# of these belongs to an earlier process that had the same id (a restarted container).
_OWN_INSTANCES: set[str] = set()
_HOST = socket.gethostname()


def new_instance_id() -> str:
    return secrets.token_hex(8)


class InstanceLeases:
    """The lease half of RunStore: instances, their heartbeats, and interrupting what they held."""

    def register_instance(self, instance_id: str) -> None:
        """Start the lease of a server or command (renew it with `renew_instance`)."""
        _OWN_INSTANCES.add(instance_id)
        now = time.time()
        with self._connect() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO instances VALUES (?, ?, ?, ?, ?)",
                (instance_id, os.getpid(), _HOST, now, now),
            )

    def renew_instance(self, instance_id: str) -> None:
        with self._connect() as connection:
            connection.execute(
                "UPDATE instances SET heartbeat_at = ? WHERE instance_id = ?",
                (time.time(), instance_id),
            )

    def end_instance(self, instance_id: str, reason: str) -> int:
        """End a lease: its active runs become interrupted with `reason`; returns how many."""
        with self._connect() as connection:
            count = self._interrupt(connection, "owner = ?", (instance_id,), reason)
            connection.execute("DELETE FROM instances WHERE instance_id = ?", (instance_id,))
        _OWN_INSTANCES.discard(instance_id)
        return count

    def interrupt_expired(self) -> int:
        """Active runs whose owner's lease has expired become "interrupted"; returns how many."""
        with self._connect() as connection:
            live = self._live_instances(connection)
            rows = connection.execute(
                f"SELECT run_id, owner FROM runs WHERE status IN {_ACTIVE}"
            ).fetchall()
            orphans = [run_id for run_id, owner in rows if owner not in live]
            if not orphans:
                return 0
            marks = ", ".join("?" for _ in orphans)
            reason = "The process training this run stopped before it finished."
            return self._interrupt(connection, f"run_id IN ({marks})", tuple(orphans), reason)

    def _live_instances(self, connection) -> set[str]:
        """Instances whose lease holds: a fresh heartbeat, and, on this machine, a process that
        still exists and is not this one (unless this process registered it)."""
        cutoff = time.time() - LEASE_SECONDS
        rows = connection.execute(
            "SELECT instance_id, pid, host FROM instances WHERE heartbeat_at >= ?", (cutoff,)
        ).fetchall()
        return {
            instance
            for instance, pid, host in rows
            if instance in _OWN_INSTANCES
            or host != _HOST
            or (pid != os.getpid() and _process_exists(pid))
        }

    def _interrupt(self, connection, where: str, parameters: tuple, reason: str) -> int:
        rows = connection.execute(
            f"SELECT run_id FROM runs WHERE status IN {_ACTIVE} AND {where}",
            parameters,
        ).fetchall()
        for (run_id,) in rows:
            for leftover in self.runs_dir.glob(f".{run_id}-*"):  # files cut off half-written
                shutil.rmtree(leftover, ignore_errors=True)
            connection.execute(
                "UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE run_id = ?",
                (Status.INTERRUPTED.value, time.time(), reason, run_id),
            )
        return len(rows)


def _process_exists(pid: int) -> bool:
    """Whether a process with this id exists on this machine. A dead one frees its runs at
    once; a live one may be another program that got the id (a restarted container), which the
    lease's expiry catches."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True
