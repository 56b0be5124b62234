"""Ollama's model scheduler, simulated: what a GPU server does when requests for several models arrive.

Off unless :attr:`ollama_sim.SimConfig.scheduler` is set (answers then start at once, as before). When on,
every generate, chat and embed request is admitted the way Ollama's ``server/sched.go`` admits it
(https://github.com/ollama/ollama/blob/main/server/sched.go):

- a request for a loaded model goes straight to its runner, which answers ``num_parallel`` requests at
  once (``OLLAMA_NUM_PARALLEL``) and queues the rest in arrival order;
- a request for any other model joins the pending queue (at most ``max_queue``, else 503 "server busy"),
  which loads **one model at a time**: while a load runs, pending requests wait, even for other models;
- before loading, a model that would exceed ``max_loaded_models`` (``OLLAMA_MAX_LOADED_MODELS``, default
  3 per GPU) or the VRAM budget makes room: ``findRunnerToUnload`` sorts loaded runners by session
  duration then model path and takes the first idle one (no request in flight), else the first one,
  whose requests are then waited for; the pending queue waits until the unload is done;
- a load takes ``load_seconds_per_gb`` × the model's size; the model then stays loaded for its
  keep-alive (``keep_alive`` of the last request, else ``keep_alive`` here, Ollama's 5 minutes) after its
  last request ends; ``keep_alive: 0`` unloads it as soon as it is idle.

Times are real seconds on the event loop; a benchmark that scales time passes scaled values.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, deque
from dataclasses import dataclass

from ollama_sim.modelinfo import ModelFacts
from ollama_sim.store import SimState

GB = 1e9


class QueueFull(Exception):
    """The pending queue is full: Ollama answers 503 "server busy"."""


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """One server's GPU and Ollama's scheduling settings.

    Attributes:
        vram_bytes: memory for models; a model's footprint is its size.
        load_seconds_per_gb: load time per GB of model (disk to VRAM).
        num_parallel: ``OLLAMA_NUM_PARALLEL``, requests one loaded model answers at once.
        max_loaded_models: ``OLLAMA_MAX_LOADED_MODELS`` (Ollama's default: 3 per GPU).
        keep_alive: seconds a model stays loaded after its last request (``OLLAMA_KEEP_ALIVE``).
        max_queue: ``OLLAMA_MAX_QUEUE``, requests that may wait for a load.
    """

    vram_bytes: int
    load_seconds_per_gb: float
    num_parallel: int = 1
    max_loaded_models: int = 3
    keep_alive: float = 300.0
    max_queue: int = 512


class Ticket:
    """One request's place: ``ready`` resolves when it holds a parallel slot of its model's runner."""

    def __init__(self, scheduler: Scheduler, facts: ModelFacts, keep_alive: float | None) -> None:
        self.scheduler = scheduler
        self.facts = facts
        self.keep_alive = keep_alive
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.runner: Runner | None = None
        self.done = False
        self.hold = 0.0
        """Seconds a non-streamed answer is held after the slot is taken (its generation time)."""

    def release(self) -> None:
        """The answer is over (or the client left): give the slot or the place in a queue back."""
        if not self.done:
            self.done = True
            self.scheduler.released(self)


class Runner:
    """A loaded model: its slots, its queue, and when it expires."""

    def __init__(self, facts: ModelFacts, session: float) -> None:
        self.facts = facts
        self.session = session
        self.active = 0
        self.refs = 0
        self.waiting: deque[Ticket] = deque()
        self.timer: asyncio.TimerHandle | None = None


class Scheduler:
    """The scheduler of one simulated server (see the module docstring)."""

    def __init__(self, config: SchedulerConfig, state: SimState) -> None:
        self.config = config
        self.state = state
        self.loaded: dict[str, Runner] = {}
        self.pending: deque[Ticket] = deque()
        self.loads: Counter[str] = Counter()
        self.evictions = 0
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def request(self, facts: ModelFacts, keep_alive: float | None) -> Ticket:
        """Admit a request for ``facts``; :class:`QueueFull` when the pending queue is full."""
        ticket = Ticket(self, facts, keep_alive)
        runner = self.loaded.get(facts.key)
        if runner is not None:
            self._attach(runner, ticket)
            return ticket
        if len(self.pending) >= self.config.max_queue:
            raise QueueFull
        self.pending.append(ticket)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._process_pending())
        self._wake.set()
        return ticket

    def expire(self, facts: ModelFacts) -> None:
        """``keep_alive: 0`` with nothing to answer: unload the model once it is idle."""
        runner = self.loaded.get(facts.key)
        if runner is not None:
            runner.session = 0.0
            if runner.refs == 0:
                self._unload(runner)

    def reset(self) -> None:
        """The server stopped: nothing stays loaded, nothing is pending."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for runner in self.loaded.values():
            if runner.timer is not None:
                runner.timer.cancel()
        self.loaded.clear()
        self.pending.clear()

    def _attach(self, runner: Runner, ticket: Ticket) -> None:
        """``useLoadedRunner``: count the request on the runner; it runs now or waits for a slot."""
        ticket.runner = runner
        runner.refs += 1
        if runner.timer is not None:
            runner.timer.cancel()
            runner.timer = None
        if ticket.keep_alive is not None:
            runner.session = ticket.keep_alive
        if runner.active < self.config.num_parallel:
            runner.active += 1
            ticket.ready.set_result(None)
        else:
            runner.waiting.append(ticket)

    def released(self, ticket: Ticket) -> None:
        """A request ended: free its slot (the next waiter takes it), expire the runner when idle."""
        runner = ticket.runner
        if runner is None:
            if ticket in self.pending:
                self.pending.remove(ticket)
            return
        if ticket.ready.done() and not ticket.ready.cancelled():
            runner.active -= 1
            while runner.waiting and runner.active < self.config.num_parallel:
                waiter = runner.waiting.popleft()
                if not waiter.done:
                    runner.active += 1
                    waiter.ready.set_result(None)
        elif ticket in runner.waiting:
            runner.waiting.remove(ticket)
        runner.refs -= 1
        if runner.refs > 0 or self.loaded.get(runner.facts.key) is not runner:
            return
        if runner.session <= 0:
            self._unload(runner)
        elif math.isfinite(runner.session):
            runner.timer = asyncio.get_running_loop().call_later(runner.session, self._expired, runner)

    def _expired(self, runner: Runner) -> None:
        runner.timer = None
        if runner.refs == 0 and self.loaded.get(runner.facts.key) is runner:
            self._unload(runner)

    def _unload(self, runner: Runner) -> None:
        if runner.timer is not None:
            runner.timer.cancel()
            runner.timer = None
        if self.loaded.get(runner.facts.key) is runner:
            del self.loaded[runner.facts.key]
            self.state.unload(runner.facts)
            self._changed.set()

    async def _process_pending(self) -> None:
        """``processPending``: one pending request at a time, each until its model is loaded."""
        while True:
            while not self.pending:
                self._wake.clear()
                await self._wake.wait()
            ticket = self.pending[0]
            if not ticket.done:
                await self._schedule(ticket)
            if self.pending and self.pending[0] is ticket:
                self.pending.popleft()

    async def _schedule(self, ticket: Ticket) -> None:
        facts = ticket.facts
        while not ticket.done:
            runner = self.loaded.get(facts.key)
            if runner is not None:
                self._attach(runner, ticket)
                return
            if self._fits(facts):
                await asyncio.sleep(facts.size / GB * self.config.load_seconds_per_gb)
                session = self.config.keep_alive if ticket.keep_alive is None else ticket.keep_alive
                self.loaded[facts.key] = Runner(facts, session)
                self.loads[facts.key] += 1
                self.state.mark_loaded(facts, None)
                continue
            victim = self._victim()
            self.evictions += 1
            victim.session = 0.0
            self._changed.clear()
            if victim.refs == 0:
                self._unload(victim)
            else:
                await self._changed.wait()

    def _fits(self, facts: ModelFacts) -> bool:
        if not self.loaded:
            return True
        used = sum(runner.facts.size for runner in self.loaded.values())
        return len(self.loaded) < self.config.max_loaded_models and used + facts.size <= self.config.vram_bytes

    def _victim(self) -> Runner:
        """``findRunnerToUnload``: by session duration then model path, the first idle runner, else the first."""
        ordered = sorted(self.loaded.values(), key=lambda runner: (runner.session, runner.facts.digest))
        return next((runner for runner in ordered if runner.refs == 0), ordered[0])
