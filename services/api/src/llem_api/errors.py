"""The API's error hierarchy; mapped to RFC 9457 problem details in one place (app.py)."""


class ApiError(Exception):
    status_code = 500
    title = "Internal error"


class NotFound(ApiError):
    status_code = 404
    title = "Not found"


class BadRequest(ApiError):
    status_code = 400
    title = "Bad request"


class Conflict(ApiError):
    """The request contradicts the resource's state (cancelling a campaign that has finished)."""

    status_code = 409
    title = "Conflict"


class Unavailable(ApiError):
    status_code = 503
    title = "Service unavailable"


class Unauthorized(ApiError):
    status_code = 401
    title = "Unauthorized"


class Forbidden(ApiError):
    status_code = 403
    title = "Forbidden"


class ExportError(ApiError):
    """A static export cannot be written (no built web app, a build from before its markers)."""
