"""Real infrastructure for tests, the demo and CI: nats-server and PostgreSQL + TimescaleDB.

Both run as child processes on free loopback ports with their data in a directory the
caller chooses; nothing touches a system-wide cluster.
"""

from llem.devstack.errors import DevStackError
from llem.devstack.nats import NatsServer
from llem.devstack.postgres import PostgresServer

__all__ = ["DevStackError", "NatsServer", "PostgresServer"]
