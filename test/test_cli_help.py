"""Every console script explains every flag with its default and answers --version; the S2
server's upstream API key, like the tokens, never has to be on a command line."""
from __future__ import annotations

import argparse
from importlib import metadata

import pytest

from lingnav_core.cli import package_version
from lingnav_core.endpoints import S2_API_KEY_ENV

REFUSED = {"--token", "--api_key"}  # accepted only to refuse them with the reason (they show in `ps`)
ROS_NODES = {"lingnav-navigator", "lingnav-sim"}  # their other arguments are ROS's own


def console_scripts() -> dict[str, metadata.EntryPoint]:
    eps = metadata.entry_points(group="console_scripts")
    return {ep.name: ep for ep in eps if ep.name.startswith("lingnav-") and ep.value.split(".")[0] in
            ("lingnav_ros", "s1_server", "s2_server")}


class _Parsed(Exception):
    pass


def parser_of(main, monkeypatch) -> argparse.ArgumentParser:
    """The parser `main` builds, caught where it would parse."""
    seen: list[argparse.ArgumentParser] = []

    def spy(self, *args, **kwargs):
        seen.append(self)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", spy)
    with pytest.raises(_Parsed):
        main([])
    return seen[0]


def test_all_console_scripts_are_found():
    names = set(console_scripts())
    assert {"lingnav-s2-server", "lingnav-s2-client", "lingnav-s1-server", "lingnav-s1-export", "lingnav-bringup",
            "lingnav-demo", "lingnav-eval", "lingnav-replay", *ROS_NODES} <= names, names


@pytest.mark.parametrize("name", sorted(set(console_scripts()) - ROS_NODES))
def test_every_flag_has_help_with_its_default(name, monkeypatch):
    parser = parser_of(console_scripts()[name].load(), monkeypatch)
    assert issubclass(parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter), name
    text = " ".join(parser.format_help().split())
    for action in parser._actions:  # noqa: SLF001 - argparse has no public list of its flags
        flag = max(action.option_strings, key=len) if action.option_strings else action.dest
        if action.help == argparse.SUPPRESS:
            assert flag in REFUSED, f"{name} {flag}: hidden flag"
            continue
        assert action.help and len(action.help) >= 8, f"{name} {flag}: no help text"
        if action.option_strings and action.default not in (None, argparse.SUPPRESS) \
                and flag not in ("--help", "--version"):
            assert f"(default: {action.default})" in text, f"{name} {flag}: default not shown"


@pytest.mark.parametrize("name", sorted(console_scripts()))
def test_version_and_help_answer_and_exit_zero(name, capsys):
    main = console_scripts()[name].load()
    for flag in ("--version", "--help"):
        try:
            code = main([flag])
        except SystemExit as done:
            code = done.code
        assert code in (0, None), (name, flag)
    out = capsys.readouterr().out
    assert f"{name} {package_version()}" in out and "usage:" in out, out


def test_s2_api_key_comes_from_a_file_or_the_environment(tmp_path, monkeypatch, capsys):
    from s2_server.cli import build_parser, main, make_backend

    base = ["--backend", "openai", "--api_base", "http://127.0.0.1:9/v1", "--served_model", "m"]
    assert main([*base, "--api_key", "sk-visible-in-ps"]) == 2
    assert "--api_key is not accepted" in capsys.readouterr().err
    key_file = tmp_path / "upstream.key"
    key_file.write_text("sk-from-file\n")
    backend = make_backend(build_parser().parse_args([*base, "--api_key_file", str(key_file)]))
    assert backend._new_session(0).headers["Authorization"] == "Bearer sk-from-file"  # noqa: SLF001
    monkeypatch.setenv(S2_API_KEY_ENV, "sk-from-env")
    backend = make_backend(build_parser().parse_args(base))
    assert backend._new_session(0).headers["Authorization"] == "Bearer sk-from-env"  # noqa: SLF001
    with pytest.raises(ValueError, match="--api_key_file"):
        make_backend(build_parser().parse_args([*base, "--api_key_file", str(tmp_path / "missing")]))
