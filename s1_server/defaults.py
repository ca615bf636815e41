"""Defaults the S1 server and its clients share (one source of truth)."""

DEFAULT_PORT = 8901
DEFAULT_HOST = "127.0.0.1"
