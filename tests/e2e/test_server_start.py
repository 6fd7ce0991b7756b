"""A server started again after one was killed mid-run: its dead runs are marked interrupted when
it starts, before anyone opens the page."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from explorer.store.registry import RunStore
from testkit.server import ROOT, StreamlitServer
from tests.e2e.conftest import server_environment

pytestmark = pytest.mark.e2e

# A server that claims a run, starts it and dies without a word (as under SIGKILL).
DEAD_SERVER = """
import os, sys
from explorer.config import TrainingConfig
from explorer.store.leases import new_instance_id
from explorer.store.registry import RunStore
store = RunStore(sys.argv[1])
owner = new_instance_id()
store.register_instance(owner)
run_id, _ = store.claim(TrainingConfig(hidden1=33), "key-killed", "sample", owner=owner)
store.mark_running(run_id)
print(run_id, flush=True)
os._exit(0)
"""


def test_a_restarted_server_marks_its_dead_runs_interrupted_at_start(tmp_path_factory):
    environment = server_environment(tmp_path_factory)
    home = environment["EXPLORER_HOME"]
    killed = subprocess.run(
        [sys.executable, "-c", DEAD_SERVER, home],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
        check=True,
    )
    run_id = killed.stdout.strip()
    store = RunStore(home)
    assert store.get(run_id).status == "running"
    log = tmp_path_factory.mktemp("start-log") / "server.log"
    with StreamlitServer(environment, log, timeout=60):
        deadline = time.monotonic() + 30
        while store.get(run_id).status == "running" and time.monotonic() < deadline:
            time.sleep(0.1)  # polling the store, with a deadline; nobody opens the page
        record = store.get(run_id)
    assert record.status == "interrupted"
    assert "stopped before it finished" in record.error
