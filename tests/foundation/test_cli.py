"""The command line: help everywhere, one-line errors, tokens and login."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import null

from console.cli import build_parser, main
from console.core import i18n, paths
from console.core.credentials import SERVICE, resolve_token
from tests.foundation.test_credentials import MemoryKeyring

COMMANDS = [[], ["serve"], ["demo"], ["token"], ["token", "create"], ["login"], ["logout"]]


@pytest.fixture(autouse=True)
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "console")
def test_help_exits_zero_for_every_subcommand(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: agent-console" in capsys.readouterr().out


def test_help_loads_neither_textual_nor_the_server() -> None:
    code = (
        "import sys\nfrom console.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in sys.modules if m.startswith(('textual', 'console.server', 'uvicorn', 'httpx'))]\n"
        "print('LOADED', bad, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stderr


def test_documented_options_exist() -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "--server",
            "http://h:1",
            "--profile",
            "p",
            "--token",
            "x",
            "--readonly",
            "--theme",
            "light",
            "--lang",
            "ko",
        ]
    )
    assert (args.server, args.profile, args.token, args.readonly, args.theme, args.lang) == (
        "http://h:1",
        "p",
        "x",
        True,
        "light",
        "ko",
    )
    serve = parser.parse_args(
        ["serve", "--demo", "--db", "x.db", "--smtp-port", "2525", "--no-rate-limit"]
    )
    assert (serve.host, serve.port, serve.demo, serve.smtp_port, serve.no_rate_limit) == (
        "127.0.0.1",
        8765,
        True,
        2525,
        True,
    )
    demo = parser.parse_args(["demo", "--as", "supervisor", "--seed", "7", "--port", "0"])
    assert (demo.as_role, demo.seed, demo.port, demo.fresh) == ("supervisor", 7, 0, False)
    assert parser.parse_args(["demo", "--fresh"]).fresh is True
    with pytest.raises(SystemExit):
        parser.parse_args(["--lang", "fr"])


def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('theme = "dark"\n[sla]\nwarning_seconds = "soon"\n', encoding="utf-8")
    out = run_cli("--config", str(config), "login", "http://127.0.0.1:1", "--stdin", stdin="tok\n")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(config) in lines[0] and "line 3" in lines[0] and "sla.warning_seconds" in lines[0]


def test_console_without_a_token_and_without_a_terminal_says_how_to_get_one() -> None:
    out = run_cli("--server", "http://127.0.0.1:9", stdin="")
    assert out.returncode == 2
    assert "agent-console login http://127.0.0.1:9" in out.stderr
    assert "Traceback" not in out.stderr


def test_login_stores_in_the_keyring_and_prints_no_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret-login-token\n"))
    assert main(["login", "http://127.0.0.1:8765/", "--stdin"]) == 0
    assert ring.items == {(SERVICE, "http://127.0.0.1:8765"): "secret-login-token"}
    out = capsys.readouterr()
    assert "secret-login-token" not in out.out + out.err
    assert "keyring" in out.out
    assert "secret-login-token" not in paths.log_file().read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["logout", "local"]) == 0
    assert ring.items == {}


def test_login_without_keyring_explains_the_file_opt_in(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(null.Keyring())
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret-login-token\n"))
    with pytest.raises(SystemExit) as info:
        main(["login", "local", "--stdin"])
    assert info.value.code == 2
    assert 'credential_store = "file"' in capsys.readouterr().err


def test_login_with_file_store_opt_in_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(null.Keyring())
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text('credential_store = "file"\n', encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret-login-token\n"))
    assert main(["login", "http://127.0.0.1:8765", "--stdin"]) == 0
    assert "plain text" in capsys.readouterr().err
    assert "secret-login-token" not in paths.config_file().read_text(encoding="utf-8")
    from console.core.config import load_config

    found = resolve_token("http://127.0.0.1:8765", config=load_config(), environ={})
    assert found is not None and found.source == "file"


def test_token_create_prints_a_working_token(tmp_path: Path) -> None:
    pytest.importorskip("console.server.admin")
    from console.server import admin
    from console.server.db import connect

    db = tmp_path / "server.sqlite3"
    connect(db).close()
    out = run_cli("token", "create", "--role", "supervisor", "--name", "Sam", "--db", str(db))
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert len(out.stdout.strip().splitlines()) == 1
    role_subject = admin.subject_of(db, token)
    assert role_subject is not None and role_subject[0] == "supervisor"


def test_token_create_refuses_a_missing_database(tmp_path: Path) -> None:
    out = run_cli(
        "token", "create", "--role", "agent", "--name", "A", "--db", str(tmp_path / "nope.db")
    )
    assert out.returncode == 2
    assert "no database" in out.stderr and "agent-console serve" in out.stderr


def console_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


async def test_console_connects_with_the_env_token_to_the_real_server(
    ref_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.cli import prepare_console

    monkeypatch.setenv("AGENT_CONSOLE_TOKEN", ref_server.token("agent", "Env Agent"))
    app = prepare_console(
        console_args("--server", ref_server.url, "--theme", "light", "--lang", "ja")
    )
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and app.backend.connection.phase != "connected":
            await pilot.pause(0.1)
        assert app.backend.connection.phase == "connected"
        assert app.theme == "light"
        assert i18n.get_language() == "ja"
        await pilot.press("ctrl+q")


async def test_console_uses_the_keyring_token_and_profile_readonly(
    ref_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.cli import prepare_console
    from console.core.credentials import store_token

    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    store_token(ref_server.url, ref_server.token("agent", "Ring Agent"))
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text(
        f'default_profile = "ref"\n[profiles]\nref = {{ url = "{ref_server.url}", readonly = true }}\n',
        encoding="utf-8",
    )
    app = prepare_console(console_args(), interactive=False)
    assert app.readonly is True
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and app.backend.connection.phase != "connected":
            await pilot.pause(0.1)
        assert app.backend.connection.phase == "connected"
        await pilot.press("ctrl+q")


def test_serve_and_token_create_work_together(tmp_path: Path) -> None:
    pytest.importorskip("console.server.app")
    import httpx

    from tests.fixtures.reference_server import free_port

    port = free_port()
    db = tmp_path / "cli.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "serve", "--port", str(port), "--db", str(db), "--demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while health is None and time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health")
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, proc.stderr
        created = run_cli(
            "token", "create", "--role", "agent", "--name", "Cli Agent", "--db", str(db)
        )
        assert created.returncode == 0, created.stderr
        headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/departments", headers=headers)
        assert response.status_code == 200
        assert {d["name"] for d in response.json()} >= {"Billing", "Sales"}
        assert (tmp_path / "cli-data").is_dir()  # attachments beside --db
    finally:
        proc.terminate()
        proc.wait(10)
