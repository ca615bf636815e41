"""Defaults the S1 server and its clients share (one source of truth)."""

DEFAULT_PORT = 8901
DEFAULT_HOST = "127.0.0.1"
TOKEN_ENV_VAR = "LINGNAV_S1_TOKEN"  # bearer token for server and robot client, kept off the command line
