"""What handlers are given by name (`NamedDependency`): the resources the lifespan put in the app's
state. The API's whole dependency set, declared once on the app."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from psycopg_pool import AsyncConnectionPool

from llem_api.live import Hub
from llem_schemas.subjects import Layout


def provide_db(state: State) -> AsyncConnectionPool:
    pool: AsyncConnectionPool = state.pool
    return pool


def provide_layout(state: State) -> Layout:
    layout: Layout = state.layout
    return layout


def provide_hub(state: State) -> Hub | None:
    """The live bridge, or None while NATS was unreachable at start-up (live and writes answer 503)."""
    hub: Hub | None = state.get("hub")
    return hub


LiveHub = NamedDependency[Hub | None]  # None while NATS is unreachable: live streams and writes answer 503

DEPENDENCIES = {
    "db": Provide(provide_db, sync_to_thread=False),
    "layout": Provide(provide_layout, sync_to_thread=False),
    "hub": Provide(provide_hub, sync_to_thread=False),
}
