"""A minimal Streamlit browser session in Python, for load benchmarks (not a benchmark itself).

It speaks the frontend's websocket protocol (/_stcore/stream, BackMsg / ForwardMsg protobufs from
the installed streamlit) and does what the frontend does that loads the server: a rerun request
with the page's query string and widget states on load and on every widget change, the fragment
timers (`auto_rerun`: one rerun request per interval for each live fragment, cancelled by
`stop_auto_rerun` or a new full run), and following `page_info_changed` (the URL the page writes).
It draws nothing, so 30 of them cost the machine little, unlike 30 Chromium renderers.

Each script run is recorded: when its `new_session` and `script_finished` arrived, whether it was a
full or a fragment run, and the elements it sent as "type:text" strings (markdown body, alert
body, metric label, element type), so a caller can tell what the page would show.

Written against streamlit 1.67 (Starlette server); the protocol is internal to Streamlit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED_OK = (0, 3)  # FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY


@dataclass
class ScriptRun:
    started: float
    fragment: bool
    fragment_ids: tuple[str, ...] = ()  # the fragments a fragment run ran
    texts: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # arrival of each element in `texts`
    finished: float | None = None
    status: int | None = None

    def shows(self, text: str) -> bool:
        return any(text in item for item in self.texts)

    def first_time(self, text: str) -> float | None:
        """When the first element containing `text` arrived (None: never)."""
        pairs = zip(self.texts, self.times, strict=True)
        return next((moment for item, moment in pairs if text in item), None)


class Session:
    """One browser tab's worth of Streamlit traffic; `await Session(url, query).open()`."""

    def __init__(self, base_url: str, query: str) -> None:
        self.base_url, self.query = base_url, query
        self.widget_ids: dict[str, str] = {}  # user key (e.g. "hidden1") -> widget id
        # user key -> the fragment the widget is drawn in: a change reruns only that fragment,
        # as the browser asks
        self.widget_fragments: dict[str, str] = {}
        self.states: dict[str, WidgetState] = {}  # widget id -> value sent with every rerun
        self.page_hash = ""
        self.runs: list[ScriptRun] = []
        self.requests = 0
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._changed = asyncio.Event()
        self._socket = None
        self._reader: asyncio.Task | None = None

    async def open(self) -> Session:
        url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self._socket = await websockets.connect(
            url, subprotocols=["streamlit"], origin=self.base_url, max_size=None
        )
        self._reader = asyncio.create_task(self._read())
        await self.rerun()
        return self

    async def close(self) -> None:
        for _, task in self._timers.values():
            task.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()

    # -- what a user does ----------------------------------------------------------------------

    async def rerun(self, fragment_id: str = "", auto: bool = False, trigger: str = "") -> float:
        """Send a rerun request (as the frontend does); returns when it was sent."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.widget_states.widgets.extend(self.states.values())
        if trigger:
            state.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
        info = state.context_info
        info.timezone, info.locale, info.url = "UTC", "en-US", self.base_url + "/"
        sent = time.perf_counter()
        self.requests += 1
        await self._socket.send(message.SerializeToString())
        return sent

    async def set_slider(self, key: str, value: float) -> float:
        widget_id = self.widget_ids[key]
        state = WidgetState(id=widget_id)
        state.double_array_value.data.append(value)
        return await self._changed_widget(key, state)

    async def set_choice(self, key: str, option: str) -> float:
        """Move the select slider `key` to the option shown as `option` (e.g. "96")."""
        widget_id = self.widget_ids[key]
        state = WidgetState(id=widget_id)
        state.string_array_value.data.append(option)
        return await self._changed_widget(key, state)

    async def set_whole_number(self, key: str, value: int) -> float:
        """Type a whole number into the number input `key` (e.g. "hidden1_exact")."""
        widget_id = self.widget_ids[key]
        return await self._changed_widget(key, WidgetState(id=widget_id, int_value=int(value)))

    async def _changed_widget(self, key: str, state: WidgetState) -> float:
        self.states[state.id] = state
        return await self.rerun(fragment_id=self.widget_fragments.get(key, ""))

    async def click(self, key: str) -> float:
        return await self.rerun(trigger=self.widget_ids[key])

    async def full_run_after(
        self, since: float, done, timeout: float = 120.0, fragment_id: str = ""
    ) -> ScriptRun:
        """The first full run (or run of the fragment `fragment_id`) that started after
        `since`, finished, and satisfies `done`."""
        deadline = time.perf_counter() + timeout
        while True:
            for run in self.runs:
                if (
                    (not run.fragment or (fragment_id and fragment_id in run.fragment_ids))
                    and run.started >= since
                    and run.finished is not None
                    and run.status in FINISHED_OK
                    and done(run)
                ):
                    return run
            self._changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"no full run matched in {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def last_full_run(self) -> ScriptRun | None:
        return next((r for r in reversed(self.runs) if not r.fragment and r.finished), None)

    # -- what the frontend does on its own --------------------------------------------------------

    async def _read(self) -> None:
        async for data in self._socket:
            message = ForwardMsg()
            message.ParseFromString(data)
            self._handle(message, time.perf_counter())
            self._changed.set()

    def _handle(self, message: ForwardMsg, now: float) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = message.new_session.page_script_hash
            fragment_ids = tuple(message.metadata.run.fragment_ids)
            fragment = bool(fragment_ids)
            if not fragment:
                self._cancel_timers(list(self._timers))
            self.runs.append(ScriptRun(started=now, fragment=fragment, fragment_ids=fragment_ids))
            del self.runs[:-50]  # keep memory flat over long runs
        elif kind == "delta" and self.runs:
            element = message.delta.new_element
            name = element.WhichOneof("type")
            if name is None:
                return
            value = getattr(element, name)
            parts = (getattr(value, name, "") for name in ("label", "body"))
            text = " | ".join(part for part in parts if isinstance(part, str) and part)
            widget_id = getattr(value, "id", "")
            if widget_id.startswith("$$ID-"):
                key = widget_id.rsplit("-", 1)[-1]
                self.widget_ids[key] = widget_id
                self.widget_fragments[key] = message.delta.fragment_id
            self.runs[-1].texts.append(f"{name}:{text}")
            self.runs[-1].times.append(now)
        elif kind == "script_finished" and self.runs:
            self.runs[-1].finished, self.runs[-1].status = now, message.script_finished
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            fragment_id, interval = message.auto_rerun.fragment_id, message.auto_rerun.interval
            if self._timers.get(fragment_id, (None,))[0] != interval:
                self._cancel_timers([fragment_id])
                task = asyncio.create_task(self._every(fragment_id, interval))
                self._timers[fragment_id] = (interval, task)
        elif kind == "stop_auto_rerun":
            self._cancel_timers(list(message.stop_auto_rerun.fragment_ids))

    async def _every(self, fragment_id: str, interval: float) -> None:
        while True:  # setInterval: fires whether or not the last rerun has finished
            await asyncio.sleep(interval)
            await self.rerun(fragment_id, auto=True)

    def _cancel_timers(self, fragment_ids: list[str]) -> None:
        for fragment_id in fragment_ids:
            entry = self._timers.pop(fragment_id, None)
            if entry is not None:
                entry[1].cancel()
