class DevStackError(RuntimeError):
    """A local server could not be installed, started or stopped."""
