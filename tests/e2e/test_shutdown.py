"""A server stopped with SIGTERM (as `docker stop` or systemd stops it) marks the runs it was
training "interrupted", with the reason, instead of leaving them "running" for ever."""

from __future__ import annotations

import re

import pytest

from explorer.store.registry import RunStore
from testkit.server import StreamlitServer
from tests.e2e.conftest import new_page, server_environment

pytestmark = pytest.mark.e2e


def test_sigterm_leaves_the_servers_runs_interrupted(browser, tmp_path_factory):
    environment = server_environment(tmp_path_factory)
    log = tmp_path_factory.mktemp("shutdown-log") / "server.log"
    with StreamlitServer(environment, log, timeout=60) as server:
        page = new_page(browser, 1280, 800)
        page.goto(f"{server.url}/?hidden1=300&hidden2=0&batch_size=8&epochs=40")
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text(re.compile(r"Epoch \d+/40")).first.wait_for()
        page.context.close()
        server.process.terminate()  # SIGTERM
        server.process.wait(30)
    (record,) = RunStore(environment["EXPLORER_HOME"]).list_runs()
    assert record.status == "interrupted"
    assert record.error == "The server stopped before it finished."
