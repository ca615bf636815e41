"""Defaults the S2 server and its clients share (one source of truth)."""

DEFAULT_PORT = 8890
DEFAULT_HOST = "127.0.0.1"
# The client's own timeout in ms, sent with each step so S2 drops work nobody will read.
DEADLINE_HEADER = "X-Client-Timeout-Ms"
