"""Query parameter types shared by the endpoints, each with the constraints the server enforces
declared in the OpenAPI document (a generated client and a contract tester see what is refused)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

MAX_OFFSET = 10_000_000  # paging deeper is a bug in the client, and PostgreSQL offsets are bigint

PageLimit = Annotated[int, QueryParameter(ge=1, le=500, description="Items per page.")]
PageOffset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip.")]
# PostgreSQL text holds no NUL: said in the schema, so clients and contract testers know it
Text = Annotated[str | None, QueryParameter(pattern=r"^[^\x00]*$", max_length=500)]
# Litestar enforces gt on an optional number but leaves it out of the schema: said there explicitly
PositiveLimit = Annotated[float | None, QueryParameter(gt=0, schema_extra={"exclusiveMinimum": 0})]
