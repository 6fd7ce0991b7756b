"""Start `streamlit run app.py` on a free port and Debian's Chromium: for browser tests and bench/.

with StreamlitServer(env, log_path) as server:   # waits for /_stcore/health
    ...  server.url, server.pid
browser = launch_chromium(playwright)           # never Playwright's own browser download
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = os.environ.get("EXPLORER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py` in its own process; `with` starts it and always stops it."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        app: Path = APP,
        timeout: float = 90.0,
        options: tuple[str, ...] = (),
    ) -> None:
        """`options` go to `streamlit run` (e.g. `--server.sslCertFile C`): with a certificate
        the server speaks HTTPS and `url` says so."""
        self.env, self.log_path, self.app, self.timeout = env, log_path, app, timeout
        self.options = tuple(options)
        self.port = free_port()
        scheme = "https" if "--server.sslCertFile" in self.options else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.started_at = self.ready_at = 0.0

    def __enter__(self) -> StreamlitServer:
        self._log = self.log_path.open("w")
        command = [sys.executable, "-m", "streamlit", "run", str(self.app)]
        command += ["--server.port", str(self.port), "--server.address", "127.0.0.1"]
        command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
        command += self.options
        self.started_at = time.time()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.ready_at = time.time()  # wall clock: comparable with the browser's clock
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.timeout
        # A test's self-signed certificate: the health check trusts it, as the test's browser does.
        unverified = ssl._create_unverified_context()
        while True:
            try:
                health = f"{self.url}/_stcore/health"
                with urllib.request.urlopen(health, timeout=2, context=unverified) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {self.log_path}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.process.pid

    def __exit__(self, *_exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
