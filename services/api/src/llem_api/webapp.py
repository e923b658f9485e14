"""The built web app (`web/dist`) served at `/`.

- `/assets/*`: Vite's content-hashed files, cached for a year (`immutable`): a new build has new names.
- Other files of the build (favicon, ...): cached briefly.
- Any other path outside `/api/` is a client-side route: `index.html`, never cached, so a new
  deployment is picked up at the next page load. A path that looks like a file (has an extension)
  and is not there is a 404, as is anything under `/api/` that no API route matched.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Request, get
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import File

from llem_api.errors import NotFound

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


def web_routes(web_dir: Path) -> list[HTTPRouteHandler]:
    root = web_dir.resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"{index} is missing: build the web app (make web) or unset LLEM_WEB_DIR")

    def page() -> File:
        return File(
            index,
            filename=index.name,
            content_disposition_type="inline",
            headers={"Cache-Control": "no-cache"},
        )

    @get("/", include_in_schema=False, sync_to_thread=False)
    def home() -> File:
        return page()

    @get("/{path:path}", include_in_schema=False, sync_to_thread=False)
    def anything(request: Request[object, object, State], path: FromPath[str]) -> File:
        relative = path.lstrip("/")
        if relative == "api" or relative.startswith("api/"):
            raise NotFound(f"no API route {request.url.path}; see /schema for the API's routes")
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            cache = IMMUTABLE if relative.startswith("assets/") else SHORT
            return File(
                candidate,
                filename=candidate.name,
                content_disposition_type="inline",
                headers={"Cache-Control": cache},
            )
        if "." in relative.rsplit("/", 1)[-1]:
            raise NotFound(f"no file {request.url.path}")
        return page()

    return [home, anything]
