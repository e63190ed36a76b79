"""A lean discrete-event kernel with simpy's exact scheduling semantics.

The memory model (`simulator.memory`) runs millions of events per sweep;
simpy's generality (bound classes, condition events, failure handling,
interrupts) costs most of that time. This kernel keeps only what the model
uses (events, timeouts, generator processes, FIFO resources, an unbounded
store) and reproduces simpy 4's event order exactly: a heap on (time,
priority, insertion id), processes started by an urgent event, a request or
put tried on creation and its waiters served only when the event that frees
them is processed. tests/test_memory.py checks runs against simpy itself.
"""

from __future__ import annotations

from heapq import heappop, heappush

_URGENT, _NORMAL = 0, 1


class Event:
    __slots__ = ("callbacks", "payload", "value")

    def __init__(self) -> None:
        self.callbacks: list | None = []
        self.value = None
        self.payload = None  # a release's request


class Flag(Event):
    """An event a process triggers (simpy's env.event())."""

    __slots__ = ("env",)

    def __init__(self, env: Environment) -> None:
        super().__init__()
        self.env = env

    def succeed(self, value=None) -> None:
        self.env.succeed(self, value)


class Environment:
    __slots__ = ("_eid", "_queue", "now")

    def __init__(self) -> None:
        self.now = 0
        self._queue: list = []
        self._eid = 0

    def succeed(self, event: Event, value=None) -> None:
        event.value = value
        self._eid += 1
        heappush(self._queue, (self.now, _NORMAL, self._eid, event))

    def event(self) -> Flag:
        return Flag(self)

    def timeout(self, delay: int) -> Event:
        ev = Event()
        self._eid += 1
        heappush(self._queue, (self.now + delay, _NORMAL, self._eid, ev))
        return ev

    def process(self, generator) -> None:
        start = Event()
        start.callbacks.append(_Process(generator).resume)
        self._eid += 1
        heappush(self._queue, (self.now, _URGENT, self._eid, start))

    def run(self) -> None:
        queue = self._queue
        while queue:
            self.now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)


class _Process:
    __slots__ = ("generator",)

    def __init__(self, generator) -> None:
        self.generator = generator

    def resume(self, event: Event) -> None:
        send = self.generator.send
        while True:
            try:
                event = send(event.value)
            except StopIteration:
                # simpy schedules the finished process as an event nobody waits
                # on: it moves neither the clock nor the order of the others
                return
            if event.callbacks is not None:  # not processed yet: wait for it
                event.callbacks.append(self.resume)
                return


class Resource:
    """simpy.Resource: `capacity` users, requests granted first come first served.

    A release is served the moment it is made (simpy's Release succeeds on
    creation), so no release ever waits: simpy's serving of waiting releases
    when a request is processed has nothing to do and is left out."""

    __slots__ = ("_requests", "capacity", "env", "users")

    def __init__(self, env: Environment, capacity: int = 1) -> None:
        self.env, self.capacity = env, capacity
        self.users: list[Event] = []
        self._requests: list[Event] = []

    def request(self) -> Event:
        req = Event()
        waiting = self._requests
        if not waiting and len(self.users) < self.capacity:
            self.users.append(req)  # granted now (simpy: the head of an empty queue)
            self.env.succeed(req)
        else:
            waiting.append(req)
            self._serve_requests(None)
        return req

    def release(self, request: Event) -> Event:
        rel = Event()
        if request in self.users:  # (simpy ignores releasing a non-user)
            self.users.remove(request)
        rel.callbacks.append(self._serve_requests)
        self.env.succeed(rel)
        return rel

    def _serve_requests(self, _event) -> None:
        # like simpy's _trigger_put with Resource._do_put: only the head is tried
        if self._requests and len(self.users) < self.capacity:
            req = self._requests.pop(0)
            self.users.append(req)
            self.env.succeed(req)


class Store:
    """simpy.Store of unbounded capacity: items got first in, first out."""

    __slots__ = ("_gets", "env", "items")

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.items: list = []
        self._gets: list[Event] = []

    def put(self, item) -> Event:
        ev = Event()
        ev.callbacks.append(self._serve_gets)
        self.items.append(item)  # always room: the put succeeds at once
        self.env.succeed(ev)
        return ev

    def get(self) -> Event:
        ev = Event()
        self._gets.append(ev)
        self._serve_gets(None)  # (simpy's callback here serves puts: none wait)
        return ev

    def _serve_gets(self, _event) -> None:
        if self._gets and self.items:
            self.env.succeed(self._gets.pop(0), self.items.pop(0))
