"""Serving an app with uvicorn on a TCP socket whose connections have Nagle's algorithm off.

asyncio turns TCP_NODELAY on only for sockets created with `proto=IPPROTO_TCP`; uvicorn binds
with `proto=0`, so every accepted connection keeps Nagle on. A response written as headers and
body in two pieces then waits for the client's delayed ACK of the first, about 40 ms on Linux,
on every request of a kept-alive connection (the first ones are quick: a new connection ACKs at
once). The robot keeps its S1 and S2 connections alive, so that was 40 ms of every plan. Binding
the listening socket with IPPROTO_TCP makes asyncio set TCP_NODELAY on each accepted connection.
"""
from __future__ import annotations

import socket


def tcp_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on (host, port), created with IPPROTO_TCP (see above)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(app, host: str, port: int, log_level: str = "warning") -> None:
    """uvicorn.run(app, host, port), with TCP_NODELAY on every connection."""
    import uvicorn

    sock = tcp_socket(host, port)
    uvicorn.Server(uvicorn.Config(app, log_level=log_level)).run(sockets=[sock])
