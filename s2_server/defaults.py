"""Defaults the S2 server and its clients share (one source of truth)."""

DEFAULT_PORT = 8890
DEFAULT_HOST = "127.0.0.1"
