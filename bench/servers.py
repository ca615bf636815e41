"""The benches' server processes: `python -m s2_server ...` (or any `python` command serving HTTP)
as a real process on a loopback port, so a bench measures what a robot would talk to. Nothing
runs when `make bench` executes this file on its own."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from test.s2_fixtures import free_port  # noqa: E402


class ServerProcess:
    """`python <args>` serving HTTP on 127.0.0.1:`port`; a context manager that returns once
    `ready_path` answers 200 and stops the process on exit. The output goes to a temporary file
    (a pipe nobody reads would block a chatty server) and its tail is raised if the process dies
    before it is ready."""

    def __init__(self, args: list[str], port: int, ready_path: str = "/health", ready_timeout_s: float = 60.0):
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.ready_path, self.ready_timeout_s = ready_path, ready_timeout_s
        self.name = args[1] if args[0] == "-m" else "server process"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})

    @classmethod
    def module(cls, module: str, *args: str, ready_timeout_s: float = 60.0) -> ServerProcess:
        """`python -m <module> --host 127.0.0.1 --port <free port> <args>` (both servers' CLI)."""
        port = free_port()
        return cls(["-m", module, "--host", "127.0.0.1", "--port", str(port), *args], port,
                   ready_timeout_s=ready_timeout_s)

    def __enter__(self) -> ServerProcess:
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.name} exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                if requests.get(self.url + self.ready_path, timeout=1.0).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.ready_path} within {self.ready_timeout_s:.0f} s")

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_mib(self) -> tuple[float, float]:
        """(current, peak) resident set size of the server process."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return (float(fields.get("VmRSS", "0 kB").split()[0]) / 1024.0,
                float(fields.get("VmHWM", "0 kB").split()[0]) / 1024.0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.log.closed:
            self.log.close()
