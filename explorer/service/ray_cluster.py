"""Training on a Ray cluster: the same service, with jobs sent to other machines as Ray tasks.

    executor = RayCluster("auto")          # or "ray://..." / "HOST:PORT"; see the README
    result = executor.run(job, data, slot) # progress streams back; Stop is ray.cancel

Turn it on with EXPLORER_RAY_ADDRESS, `streamlit run app.py -- --ray ADDRESS`, or the command
line's `--ray ADDRESS`. Ray is an optional install (requirements-cluster.txt) and is imported by
this module only, which is imported only when an address is given.

- Ray is started from a thread this executor owns and keeps alive: started from a Streamlit
  script thread, Ray ties its processes to that thread and later takes the server down.
- MNIST goes to the cluster once (`ray.put`); every task reads the same copy.
- A job is a streaming-generator task: it yields the node it runs on, then the same progress
  messages as a local child, then the TrainingResult. Workers on other machines cannot reach the
  server's store, so the server writes it.
- Stop is `ray.cancel`, then `ray.cancel(force=True)` after a grace period. The epochs that
  finished are kept (they were saved as they came); the run ends "stopped".
- A node that dies mid-run leaves the run "interrupted": never lost, never stuck, and trainable
  again.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import queue
import socket
import threading
import time

from explorer.data.sources import MnistData
from explorer.service import protocol
from explorer.service.jobs import Job, Reporter, TrainingFailed, TrainingInterrupted

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 5.0
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class RayCluster:
    """The executor that sends each job to a Ray cluster as a task."""

    def __init__(self, address: str, workers: int | None = None, timeout: float = 60.0) -> None:
        """Join the cluster at `address`; ValueError with one sentence on what to check if it
        cannot be reached (no port answers, or Ray does not answer within `timeout`)."""
        self.address = address
        _check_port(address)  # a closed port fails at once, not after `timeout`
        self._ready = threading.Event()
        self._closing = threading.Event()
        self._error: BaseException | None = None
        self._data_refs: dict[str, object] = {}
        self._task = None
        self._driver = threading.Thread(target=self._drive, name="ray-driver", daemon=True)
        self._driver.start()
        if not self._ready.wait(timeout):
            self._closing.set()
            raise ValueError(unreachable(address, f"no answer from Ray in {timeout:g} s"))
        if self._error is not None:
            if isinstance(self._error, ValueError):  # Ray is not installed
                raise self._error
            raise ValueError(unreachable(address, _first_line(self._error)))
        import ray

        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = workers or max(1, cpus)

    def _drive(self) -> None:
        """The thread that owns Ray: joins the cluster, then waits until `close`."""
        try:
            ray = _import_ray(self.address)
            ray.init(
                address=self.address,
                log_to_driver=False,
                logging_level=logging.ERROR,
                configure_logging=False,
                **({"_node_ip_address": "127.0.0.1"} if _is_loopback(self.address) else {}),
            )
            self._task = ray.remote(num_returns="streaming", max_retries=0, num_cpus=1)(_train_task)
        except BaseException as error:  # reported to the constructor
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self._closing.wait()
        ray.shutdown()

    def run(self, job: Job, data: MnistData, slot: int):
        import ray
        from ray.exceptions import RayError, TaskCancelledError

        generator = self._task.options(
            runtime_env={
                "env_vars": {"EXPLORER_TRAINING_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
            }
        ).remote(job.config, self._data_ref(data))
        cancelled_at = None
        try:
            while True:
                if job.stop_event.is_set() and cancelled_at is None:
                    ray.cancel(generator)
                    cancelled_at = time.monotonic()
                elif cancelled_at and time.monotonic() - cancelled_at > STOP_GRACE_SECONDS:
                    ray.cancel(generator, force=True)
                    cancelled_at = float("inf")
                ready, _ = ray.wait([generator], timeout=POLL_SECONDS)
                if not ready:
                    continue
                try:
                    message = ray.get(next(generator))
                except StopIteration:
                    raise TrainingFailed("The Ray task ended without a result.") from None
                if isinstance(message, protocol.Placed):
                    problem = protocol.version_problem(message.version)
                    if problem is not None:
                        raise TrainingFailed(problem)
                    job.update(worker=f"ray:{message.node_id}")
                elif job.receive(message):
                    pass
                elif isinstance(message, protocol.Finished):
                    return message.result
                elif isinstance(message, protocol.Failed):
                    raise TrainingFailed(message.message)
        except TaskCancelledError:
            raise TrainingInterrupted(
                "Stopped on the cluster; the epochs that finished are kept."
            ) from None
        except RayError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise TrainingInterrupted(
                f"The Ray worker training it was lost ({type(error).__name__}: {first_line}). "
                "Train again to retry."
            ) from None

    def _data_ref(self, data: MnistData):
        """MNIST in the cluster's object store, put there once."""
        if data.fingerprint not in self._data_refs:
            import ray

            self._data_refs[data.fingerprint] = ray.put(data)
        return self._data_refs[data.fingerprint]

    def warm(self, data: MnistData) -> None:
        self._data_ref(data)

    def start_seconds(self) -> float:
        return 0.0

    def close(self, timeout: float = 5.0) -> None:
        self._closing.set()
        self._driver.join(timeout)


def _is_loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    if host in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unreachable(address: str, why: str) -> str:
    """One paragraph for a teacher whose cluster cannot be reached: what was tried, what to
    check."""
    return (
        f"Could not reach the Ray cluster at {address} ({why}). Check the address (the head's "
        "`ray status` and `ray start` output print it, e.g. HEAD:6379, or use auto on the head); "
        "the token, if the cluster uses token authentication (RAY_AUTH_MODE=token and "
        "RAY_AUTH_TOKEN here too); and that the address is the one Ray registered: a head "
        "started with --node-ip-address must be reached at that address."
    )


def _check_port(address: str, timeout: float = 3.0) -> None:
    """Fail at once with `unreachable` when nothing listens at HOST:PORT (`auto` is Ray's)."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        raise ValueError(unreachable(address, error.strerror or str(error))) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _import_ray(address: str):
    """Import Ray quietly; for a cluster on this machine, keep its address on 127.0.0.1 (Ray
    otherwise swaps a loopback address for the machine's network address)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
        import ray._private.ray_constants as constants
    except ImportError:
        raise ValueError(
            "Ray is not installed: pip install -r requirements-cluster.txt (only needed to "
            "train on a Ray cluster)."
        ) from None
    if _is_loopback(address):
        constants.ENABLE_RAY_CLUSTER = False
    logging.getLogger("ray").setLevel(logging.ERROR)
    return ray


def _train_task(config, data):
    """The Ray task: yields protocol.Placed, progress messages, then Finished or Failed.

    Training runs on a thread of the worker; this generator passes its messages on as they come.
    A ray.cancel arrives here as KeyboardInterrupt: the training thread is told to stop.
    """
    import ray

    from explorer.training.loop import train

    yield protocol.Placed(ray.get_runtime_context().get_node_id())
    messages: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work():
        try:
            result = train(config, data, progress=Reporter(messages.put), stop=stop)
            messages.put(protocol.Finished(result))
        except Exception as error:
            messages.put(protocol.Failed.from_error(error))

    threading.Thread(target=work, daemon=True).start()
    try:
        while True:
            message = messages.get()
            yield message
            if isinstance(message, protocol.Finished | protocol.Failed):
                return
    except KeyboardInterrupt:
        stop.set()
        raise
