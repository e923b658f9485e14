"""Tiny, obviously fake stand-ins for hardware interfaces, used to test llem's own logic.

Nothing in here measures anything: the numbers are set by the tests that use them.
"""
