"""The S1 and S2 clients' shared session: the bearer token from the argument or the environment."""
from __future__ import annotations

from lingnav_http.client import client_session

ENV = "LINGNAV_TEST_CLIENT_TOKEN"


def test_token_argument_wins_and_is_stripped(monkeypatch):
    monkeypatch.setenv(ENV, "from-env")
    s = client_session(" abc \n", ENV)
    assert s.headers["Authorization"] == "Bearer abc"
    assert "Connection" not in s.headers or s.headers["Connection"] != "close"


def test_token_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv(ENV, " from-env ")
    assert client_session(None, ENV).headers["Authorization"] == "Bearer from-env"


def test_blank_token_sends_no_header_and_probes_close_the_connection(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    s = client_session(None, ENV, keep_alive=False)
    assert "Authorization" not in s.headers
    assert s.headers["Connection"] == "close"
    assert "Authorization" not in client_session("  ", ENV).headers
