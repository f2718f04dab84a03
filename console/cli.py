"""``agent-console``: the console, and the commands around it.

Subcommands::

    agent-console                  the console (TUI) for agents and supervisors
    agent-console serve            the reference chat server
    agent-console demo             server + simulated customers + console, in one go
    agent-console token create     print a new token for the reference server
    agent-console login URL        save a token for URL in the OS keyring
    agent-console logout URL       forget the saved token for URL

Each part is imported only when its subcommand runs (``--help`` loads neither
Textual nor the server).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from console import __version__

if TYPE_CHECKING:
    from console.core.config import Config

EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(
        message if message.startswith("agent-console") else f"agent-console: {message}",
        file=sys.stderr,
    )
    raise SystemExit(code)


# --------------------------------------------------------------------------- parser


def _lang(value: str) -> str:
    if value not in ("en", "ko", "ja"):
        raise argparse.ArgumentTypeError(f"'{value}' is not one of en, ko, ja")
    return value


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-console",
        description="A terminal console for live-chat support agents and supervisors.",
        epilog=(
            "Without a subcommand, starts the console. The token comes from --token, "
            "AGENT_CONSOLE_TOKEN, the OS keyring (see 'agent-console login'), the opt-in "
            "token file, or a prompt. Config: see docs/configuration.md."
        ),
    )
    parser.add_argument("--version", action="version", version=f"agent-console {__version__}")
    parser.add_argument("--server", metavar="URL", help="server URL (overrides --profile)")
    parser.add_argument(
        "--backend",
        metavar="NAME",
        help="backend for --server: native (default), chatwoot, matrix (profiles say their own)",
    )
    parser.add_argument("--profile", metavar="NAME", help="server profile from config.toml")
    parser.add_argument(
        "--token", metavar="TOKEN", help="API token (prefer AGENT_CONSOLE_TOKEN or the keyring)"
    )
    parser.add_argument(
        "--readonly", action="store_true", help="never change anything (supervisor view)"
    )
    parser.add_argument(
        "--theme", metavar="NAME", help="theme name (dark, light, high-contrast, ...)"
    )
    parser.add_argument("--lang", type=_lang, metavar="en|ko|ja", help="interface language")
    parser.add_argument("--config", type=Path, metavar="PATH", help="use this config.toml")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the reference chat server",
        description="Run the reference chat server (Starlette + SQLite).",
        epilog=(
            "This is a development and demo server; keep it on loopback or put TLS in "
            "front. POST /api/v1/customer/session never reattaches an existing customer "
            "by e-mail or name: only with identifier + identifier_hash (HMAC-SHA256 "
            "with the identity secret, see 'agent-console token identity-secret' and "
            "--identity-secret-file); otherwise each session is a new customer."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8765, help="TCP port (default 8765)")
    serve.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite file (default: in the user data dir)"
    )
    serve.add_argument(
        "--data-dir", type=Path, metavar="PATH", help="attachment folder (default: beside --db)"
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="seed demo departments, agents and customers and start simulated customers",
    )
    serve.add_argument(
        "--no-sim",
        action="store_true",
        help="with --demo: seed the demo data but start no simulated customers",
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="simulated-customer seed with --demo (default 0)"
    )
    serve.add_argument("--smtp-host", default="127.0.0.1", help="SMTP host for transcript mail")
    serve.add_argument(
        "--smtp-port", type=_port, default=None, help="SMTP port (default: mail disabled)"
    )
    serve.add_argument(
        "--no-rate-limit", action="store_true", help="turn off per-token rate limits"
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--sqlite-synchronous",
        default="NORMAL",
        choices=["NORMAL", "FULL"],
        help="FULL: fsync every commit, so acknowledged messages survive an OS crash or "
        "power cut (slower); NORMAL (default, WAL): they survive a server crash",
    )
    serve.add_argument(
        "--identity-secret-file",
        type=Path,
        metavar="PATH",
        help="file holding the customer identity secret (default: one kept in the database)",
    )

    demo = sub.add_parser(
        "demo",
        help="server + simulated customers + console",
        description=(
            "Start the reference server with demo data and simulated customers, "
            "then open the console signed in as a demo agent or supervisor."
        ),
    )
    demo.add_argument(
        "--as",
        dest="as_role",
        choices=["agent", "supervisor"],
        default="agent",
        help="who you are in the demo (default agent)",
    )
    demo.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    demo.add_argument(
        "--port", type=_port, default=0, help="server port (default 0 = any free port)"
    )
    demo.add_argument(
        "--fresh",
        action="store_true",
        help="forget the previous demo (its chats live in the state folder) and start over",
    )
    demo.add_argument("--theme", dest="demo_theme", metavar="NAME", help="theme name")
    demo.add_argument("--lang", dest="demo_lang", type=_lang, metavar="en|ko|ja", help="language")

    token = sub.add_parser(
        "token",
        help="manage reference-server tokens",
        description="Manage reference-server tokens.",
    )
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION")
    create = token_sub.add_parser(
        "create",
        help="create a user (if new) and print a new token",
        description="Create an agent, supervisor or customer (if new) and print a new token.",
    )
    create.add_argument("--role", required=True, choices=["agent", "supervisor", "customer"])
    create.add_argument("--name", required=True, help="display name (reused if it exists)")
    create.add_argument(
        "--db", type=Path, metavar="PATH", help="server database (default: same as 'serve')"
    )
    create.add_argument(
        "--expires",
        metavar="DURATION",
        help="the token stops working after this long: 90s, 15m, 8h, 30d (default: never)",
    )
    listing = token_sub.add_parser(
        "list",
        help="list tokens (id, role, name, created, expires, state; never the token)",
        description="List the tokens of a server database; the tokens themselves are not stored.",
    )
    listing.add_argument(
        "--all", action="store_true", help="include customer tokens (widget sessions)"
    )
    revoke = token_sub.add_parser(
        "revoke",
        help="revoke a token by its id (from 'token list')",
        description=(
            "Revoke a token by its id: it answers 401 from the next request on and a "
            "running server closes its open streams within a second."
        ),
    )
    revoke.add_argument("token_id", metavar="ID", help="token id, e.g. tok_3f9a1c0d2b7e")
    secret = token_sub.add_parser(
        "identity-secret",
        help="print the customer identity secret kept in the database",
        description=(
            "Print the secret your website's backend uses to compute identifier_hash = "
            "hex HMAC-SHA256(secret, identifier) for POST /api/v1/customer/session "
            "(when 'serve' runs without --identity-secret-file)."
        ),
    )
    for sub_parser in (listing, revoke, secret):
        sub_parser.add_argument(
            "--db", type=Path, metavar="PATH", help="server database (default: same as 'serve')"
        )

    login = sub.add_parser(
        "login",
        help="save a token for a server in the OS keyring",
        description=(
            "Prompt for a token and save it in the OS keyring, or in the plaintext token "
            'file if config.toml sets credential_store = "file".'
        ),
    )
    login.add_argument("url", metavar="URL", help="server URL or profile name")
    login.add_argument(
        "--stdin",
        action="store_true",
        help="read the token (or, for matrix, user and password lines) from standard input",
    )
    login.add_argument(
        "--backend",
        dest="login_backend",
        metavar="NAME",
        help="backend of a URL that is not a profile (default native)",
    )

    logout = sub.add_parser(
        "logout",
        help="forget the saved token for a server",
        description="Remove the saved token for a server from the keyring and the token file.",
    )
    logout.add_argument("url", metavar="URL", help="server URL or profile name")
    return parser


# --------------------------------------------------------------------------- shared steps


def _load_config(args: argparse.Namespace) -> Config:
    from console.core.config import ConfigError, load_config

    try:
        return load_config(args.config)
    except ConfigError as exc:
        fail(f"{exc}")


def _start_logging() -> Path:
    from console.core.logging_setup import setup_logging

    return setup_logging()


def _use_language(cli: str | None, config: Config) -> str:
    from console.core.i18n import pick_language, set_language

    return set_language(pick_language(cli, config.language))


def default_server_db() -> Path:
    """Where ``serve`` and ``token create`` keep the database unless told otherwise."""
    from console.core import paths

    return paths.data_dir() / "server" / "agent-console.sqlite3"


def _url_for(target: str, config: Config) -> str:
    if target in config.profiles:
        return config.profiles[target].url
    if not target.startswith(("http://", "https://")):
        known = ", ".join(sorted(config.profiles))
        fail(f"'{target}' is neither an http(s):// URL nor a profile (known: {known}).")
    return target.rstrip("/")


# --------------------------------------------------------------------------- commands


def prepare_console(args: argparse.Namespace, *, interactive: bool | None = None) -> Any:
    """Config, logging, language, server, token and backend → the console app (not started).

    ``interactive`` (default: stdin is a terminal) allows the hidden token prompt
    when no token was found.
    """
    from console.core import credentials, paths
    from console.core.i18n import t

    config = _load_config(args)
    _start_logging()
    lang = _use_language(args.lang, config)
    settings: dict[str, Any] = {}
    if args.server:
        url, backend_kind, readonly = _url_for(args.server, config), "native", args.readonly
        if args.server in config.profiles:
            profile = config.profiles[args.server]
            backend_kind, settings = profile.backend, dict(profile.settings)
            readonly = readonly or profile.readonly
        backend_kind = getattr(args, "backend", None) or backend_kind
    else:
        try:
            profile = config.profile(args.profile)
        except KeyError as exc:
            fail(str(exc.args[0]))
        url, backend_kind = profile.url, profile.backend
        settings = dict(profile.settings)
        readonly = args.readonly or profile.readonly

    if backend_kind == "chatwoot" and readonly:
        # Chatwoot presence keeps the user online and eligible for auto-assignment of
        # chats a read-only console cannot answer: never send it from one.
        settings["send_presence"] = False
    from console.backends import load_backend
    from console.ui.app import AgentConsoleApp as app_class

    found = credentials.resolve_token(url, cli_token=args.token, config=config)
    token = found.token if found else None
    if token is None:
        if not (sys.stdin.isatty() if interactive is None else interactive):
            fail(t("credentials.missing", url=url))
        import getpass

        token = getpass.getpass(t("credentials.prompt", url=url)).strip()
        if not token:
            fail(t("credentials.missing", url=url))
        from console.core.logging_setup import register_secret

        register_secret(token)

    try:
        backend = load_backend(
            backend_kind,
            base_url=url,
            token=token,
            outbox_path=paths.outbox_file(url, token),
            **settings,
        )
    except ValueError as exc:
        fail(str(exc))
    from console.core.boundary import ensure_sanitized

    backend = ensure_sanitized(backend)  # typed and sanitized once, whatever the call
    return app_class(
        backend, config=config, readonly=readonly, theme=args.theme, lang=lang, gc_tuning=True
    )


def cmd_console(args: argparse.Namespace) -> int:
    app = prepare_console(args)
    app.run()
    return int(getattr(app, "return_code", 0) or 0)


def server_settings(args: argparse.Namespace) -> Any:
    from console.server.settings import ServerSettings as settings_class

    db_path: Path = args.db or default_server_db()
    data_dir: Path = args.data_dir or db_path.with_name(db_path.stem + "-data")
    return settings_class(
        host=args.host,
        port=args.port,
        db_path=db_path,
        data_dir=data_dir,
        demo=args.demo,
        smtp_host=args.smtp_host,
        smtp_port=args.smtp_port,
        rate_limit=not args.no_rate_limit,
        log_level=args.log_level,
        sqlite_synchronous=args.sqlite_synchronous,
        identity_secret=_read_secret_file(args.identity_secret_file),
    )


def _read_secret_file(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        fail(f"cannot read the identity secret file {path}: {exc.strerror}.")
    if len(secret) < 16:
        fail(f"the identity secret in {path} is too short; use at least 16 characters.")
    return secret


def _loopback_url(host: str, port: int) -> str:
    """The URL a client on this machine uses to reach a server bound to ``host``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _terminate_like_interrupt() -> None:
    """Let SIGTERM unwind like Ctrl+C so ``finally`` blocks (stopping the simulator) run.

    uvicorn catches SIGTERM while it serves and, after its graceful shutdown,
    raises the signal again; with the default handler that would end the process
    at once.  This handler turns it into ``SystemExit(143)`` instead.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)


def cmd_serve(args: argparse.Namespace) -> int:
    from console.server.app import serve

    settings = server_settings(args)
    _start_logging()
    simulate = args.demo and not args.no_sim
    if simulate and args.port == 0:
        print(
            "agent-console: no simulated customers with --port 0; pick a port to get them.",
            file=sys.stderr,
        )
        simulate = False
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print(
            f"agent-console: serving on {args.host} without TLS; put a TLS proxy in front.",
            file=sys.stderr,
        )
    print(
        f"Reference server on http://{args.host}:{args.port} (database {settings.db_path}).\n"
        "Create a token with: agent-console token create --role agent --name 'Your Name'"
        + (f" --db {settings.db_path}" if args.db else ""),
        file=sys.stderr,
    )
    if not simulate:
        serve(settings)
        return 0
    from console.server.admin import identity_secret as read_identity_secret
    from console.sim.background import BackgroundSimulator as background_simulator

    # Simulated customers sign in like the demo website would: identifier + HMAC.
    identity_secret = settings.identity_secret or read_identity_secret(settings.db_path)
    sim = background_simulator(
        _loopback_url(args.host, args.port), seed=args.seed, identity_secret=identity_secret
    )
    print(
        f"Simulated customers start once the server answers (seed {args.seed}; "
        "--no-sim turns them off).",
        file=sys.stderr,
    )
    _terminate_like_interrupt()
    sim.start()
    try:
        serve(settings)
    finally:
        sim.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from console.demo import DemoError, run_demo

    config = _load_config(args)
    try:
        return run_demo(
            args.as_role,
            seed=args.seed,
            port=args.port,
            config=config,
            theme=args.demo_theme or args.theme,
            lang=args.demo_lang or args.lang,
            fresh=args.fresh,
        )
    except DemoError as exc:
        fail(str(exc))


def cmd_token(args: argparse.Namespace) -> int:
    if args.token_command not in ("create", "list", "revoke", "identity-secret"):
        fail("say what to do with tokens, e.g. 'agent-console token create --help'.")
    db_path: Path = args.db or default_server_db()
    if args.db is not None and not db_path.exists():
        fail(
            f"there is no database at {db_path}. Start 'agent-console serve --db {db_path}' first."
        )
    admin = importlib.import_module("console.server.admin")
    if args.token_command == "list":
        rows = admin.list_tokens(db_path, include_customers=args.all)
        print(f"{'ID':<18} {'ROLE':<10} {'STATE':<8} {'CREATED':<20} {'EXPIRES':<20} NAME")
        for row in rows:
            expires = (row.expires_at or "never")[:19].replace("T", " ")
            created = row.created_at[:19].replace("T", " ")
            print(
                f"{row.id:<18} {row.role:<10} {row.state:<8} {created:<20} {expires:<20} {row.name}"
            )
        return 0
    if args.token_command == "revoke":
        if not admin.revoke_token_id(db_path, args.token_id):
            fail(f"no active token with id {args.token_id!r}; see 'agent-console token list'.")
        print(f"Revoked {args.token_id}; its open streams close within a second.", file=sys.stderr)
        return 0
    if args.token_command == "identity-secret":
        print(admin.identity_secret(db_path))
        return 0
    expires_in = None
    if args.expires:
        try:
            expires_in = admin.parse_duration(args.expires)
        except ValueError as exc:
            fail(str(exc))
    token = admin.create_token(db_path, args.role, args.name, expires_in=expires_in)
    print(token)
    print(
        f"Created a {args.role} token for '{args.name}' in {db_path}"
        + (f", valid for {args.expires}" if args.expires else "")
        + ". "
        "Keep it secret; use it with --token, AGENT_CONSOLE_TOKEN or 'agent-console login'.",
        file=sys.stderr,
    )
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    from console.core import credentials
    from console.core.i18n import t

    config = _load_config(args)
    _start_logging()
    _use_language(args.lang, config)
    url = _url_for(args.url, config)
    profile = config.profiles.get(args.url)
    kind = (
        getattr(args, "login_backend", None)
        or getattr(args, "backend", None)
        or (profile.backend if profile is not None else "native")
    )
    from console.backends import BackendInfo, backend_info

    try:
        info: BackendInfo = backend_info(kind)
    except ValueError as exc:
        fail(str(exc))
    if info.login is not None:
        token = _password_login(args, kind, url, dict(profile.settings) if profile else {})
    elif args.stdin:
        token = sys.stdin.readline().strip()
    else:
        import getpass

        token = getpass.getpass(t("credentials.prompt", url=url)).strip()
    if not token:
        fail(t("credentials.empty"))
    try:
        stored = credentials.store_token(url, token, config=config)
    except credentials.CredentialError as exc:
        fail(str(exc))
    if stored.where == "file":
        print(t("credentials.stored_file", url=url, path=stored.location), file=sys.stderr)
    else:
        print(t("credentials.stored_keyring", url=url, backend=stored.location))
    return 0


def _password_login(args: argparse.Namespace, kind: str, url: str, settings: dict[str, Any]) -> str:
    """User and password once (prompt, or two lines on stdin) -> the backend's access token."""
    import getpass

    from console.backends import password_login
    from console.backends.base import BackendError

    if args.stdin:
        user = sys.stdin.readline().strip()
        password = sys.stdin.readline().rstrip("\n")
    else:
        user = input(f"{kind} user for {url}: ").strip()
        password = getpass.getpass(f"Password for {user}: ")
    if not user or not password:
        fail("give both a user and a password.")
    try:
        return password_login(kind, url, user, password, **settings)
    except BackendError as exc:
        fail(str(exc))


def cmd_logout(args: argparse.Namespace) -> int:
    from console.core import credentials

    config = _load_config(args)
    _start_logging()
    url = _url_for(args.url, config)
    if credentials.delete_token(url, config=config):
        print(f"Forgot the saved token for {url}.")
        return 0
    print(f"There was no saved token for {url}.", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.config is not None:
        os.environ["AGENT_CONSOLE_CONFIG"] = str(args.config)
    try:
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "token":
            return cmd_token(args)
        if args.command == "login":
            return cmd_login(args)
        if args.command == "logout":
            return cmd_logout(args)
        return cmd_console(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
