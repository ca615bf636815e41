"""The navigator reads its S1 and S2 bearer tokens as the servers do: from a file or the
environment, so they stay off command lines and out of `ros2 param get`."""
import pytest
import rclpy
from rclpy.context import Context
from rclpy.parameter import Parameter

from lingnav_core.endpoints import S1_TOKEN_ENV, S2_TOKEN_ENV
from lingnav_ros.nodes.navigator.factories import StartError, server_token


def test_file_wins_then_parameter_then_environment(tmp_path, monkeypatch):
    token_file = tmp_path / "s2.token"
    token_file.write_text("from-file\nignored second line\n")
    monkeypatch.setenv(S2_TOKEN_ENV, "from-env")
    assert server_token(str(token_file), S2_TOKEN_ENV, "from-param") == "from-file"
    assert server_token("", S2_TOKEN_ENV, "from-param") == "from-param"
    assert server_token("", S2_TOKEN_ENV) == "from-env"
    monkeypatch.delenv(S2_TOKEN_ENV)
    assert server_token("", S2_TOKEN_ENV) == "", "no token anywhere: none"


@pytest.mark.parametrize("content", [None, "", "\n\n"])
def test_a_token_file_that_cannot_be_used_stops_the_start(tmp_path, content):
    path = tmp_path / "s1.token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StartError, match="token file"):
        server_token(str(path), S1_TOKEN_ENV)


def test_navigator_sends_the_tokens_from_its_files(tmp_path, monkeypatch):
    from lingnav_ros.nodes.navigator_node import NavigatorNode

    monkeypatch.delenv(S1_TOKEN_ENV, raising=False)
    (tmp_path / "s1").write_text("s1-secret\n")
    (tmp_path / "s2").write_text("s2-secret\n")
    context = Context()
    rclpy.init(context=context)
    try:
        nav = NavigatorNode(context=context, parameter_overrides=[
            Parameter("s1_mode", value="A"), Parameter("s1_token_file", value=str(tmp_path / "s1")),
            Parameter("s2_token_file", value=str(tmp_path / "s2"))])
        try:
            assert nav.calls.s2.session.headers["Authorization"] == "Bearer s2-secret"
            assert nav.calls.planner.session.headers["Authorization"] == "Bearer s1-secret"
            assert nav.calls.s1_health_client.session.headers["Authorization"] == "Bearer s1-secret"
            assert "secret" not in repr(nav.get_parameter("s2_token_file").value)
        finally:
            nav.destroy_node()
        with pytest.raises(StartError, match="cannot read the token file"):
            NavigatorNode(context=context, parameter_overrides=[
                Parameter("s1_mode", value="A"), Parameter("s2_token_file", value=str(tmp_path / "missing"))])
    finally:
        rclpy.shutdown(context=context)
