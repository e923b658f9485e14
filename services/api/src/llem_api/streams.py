"""Server-sent event routes bridged from NATS (see `live`): the `@live_route` decorator that documents
what a stream carries, and the response itself. 503 while NATS is unreachable; the routes are in
`controllers.live`, their topics in `topics`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import reduce
from inspect import getdoc
from operator import or_
from typing import Annotated, Any

from litestar import Request, get
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from llem_api.dto import DroppedNotice
from llem_api.errors import BadRequest, Unavailable
from llem_api.live import DROPPED, EVENT_ID_PATTERN, EventId, Hub, TopicSpec
from llem_api.problems import problems
from llem_schemas.base import Event
from llem_schemas.events import event_type_name

ERRORS = problems(400, 503)
SSE = "text/event-stream"
RETRY_MS = 1000  # how soon a browser reconnects after the stream breaks (an API restart, a proxy)

# A new EventSource cannot set headers: a page resuming across reloads passes the id here instead.
LastEventId = Annotated[
    str | None,
    QueryParameter(
        pattern=EVENT_ID_PATTERN,
        description="Resume after this SSE id, as the `Last-Event-ID` header does (the header wins"
        " when both are sent). An id of an earlier API process replays the whole history.",
    ),
]


def messages_of(*events: type[Event]) -> dict[str, type[Any]]:
    """A live stream's SSE messages: `event` name -> the model of its `data`."""
    return {**{event_type_name(e): e for e in events}, DROPPED: DroppedNotice}


def live_route(path: str, *events: type[Event]) -> Callable[[Callable[..., Any]], HTTPRouteHandler]:
    """`@get` for an SSE route whose messages carry these events: its documented 200 response is a
    `oneOf` of their models (components derived from the models themselves, like every other), and
    its description names the model of each `event`."""
    messages = messages_of(*events)
    listing = "; ".join(f"`{name}`: {model.__name__}" for name, model in messages.items())
    about = (
        f"A `{SSE}` stream. Each SSE message's `event` is the event's `type` and its `data` is the"
        f" event's JSON exactly as published on NATS, by `event`: {listing}. `dropped` says how"
        " many older messages this (slow) client lost. The first message, a `retry` hint, has no data."
    )
    ok = ResponseSpec(
        reduce(or_, messages.values()),  # a Union: `oneOf` the message models
        description=f"The messages' `data`, one of: {', '.join(m.__name__ for m in messages.values())}.",
        media_type=SSE,
        generate_examples=False,
    )

    def decorate(fn: Callable[..., Any]) -> HTTPRouteHandler:
        return get(
            path,
            media_type=SSE,
            description=f"{getdoc(fn)}\n\n{about}",
            responses={200: ok, **ERRORS},
        )(fn)

    return decorate


def _last_event_id(request: Request[object, object, State], query: str | None) -> EventId | None:
    raw = request.headers.get("last-event-id") or query
    if raw is None:
        return None
    try:
        return EventId.parse(raw)
    except ValueError as exc:
        raise BadRequest(f"Last-Event-ID: {exc}") from exc


def sse(
    request: Request[object, object, State], hub: Hub | None, spec: TopicSpec, query: str | None
) -> ServerSentEvent:
    """The topic's messages for this client, after its `Last-Event-ID` (header or query) if any."""
    if hub is None:
        raise Unavailable("live streams need NATS, which this API process could not reach at start-up")
    last = _last_event_id(request, query)

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        yield ServerSentEventMessage(data=None, retry=RETRY_MS)  # no data: browsers dispatch no event
        async for item in hub.stream(spec, last):
            yield ServerSentEventMessage(data=item.data, id=hub.event_id(item), event=item.event)

    return ServerSentEvent(messages())
