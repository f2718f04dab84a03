"""The agent and supervisor consoles on Chatwoot, through the real app (Pilot).

``AgentConsoleApp`` runs on a ``ChatwootBackend`` against the stricter fake
(``_fake.py``) and a loopback ActionCable server (``_cable.py``) that can be
stopped and started again on the same port.  Keys drive the agent screen as an
agent would: F9 and Enter on the queue accept, typing and Enter reply, Alt+N
writes a private note, Ctrl+T transfers (to an agent from ``assignable_agents``,
or to a team), F10 resolves.  The customer and colleagues act through the
fake, which broadcasts what Chatwoot would.  The supervisor console is built
by ``cli.prepare_console`` from a read-only Chatwoot profile and must send
nothing: no mutating request, no presence.  Hostile contact, agent and team
names and messages reach no terminal byte as controls or links.

Waiting polls app state with a deadline (``wait_for``); nothing asserts on time.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import Server, serve
from websockets.typing import Subprotocol

from console.backends.chatwoot import ChatwootBackend
from console.ui.app import AgentConsoleApp
from console.ui.widgets.queue_panel import QueueList
from tests.backends_chatwoot._cable import CableFake
from tests.backends_chatwoot._fake import ACCOUNT_ID, ADMIN_TOKEN, TOKEN, FakeChatwoot
from tests.backends_chatwoot.conftest import BASE
from tests.core.safety import HOSTILE_CASES
from tests.ui.conftest import wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in

FAST = {
    "backoff_base": 0.05,
    "backoff_cap": 0.2,
    "stale_after": 2.0,
    "subscribe_timeout": 1.0,
}


@pytest.fixture(autouse=True)
def restore_language() -> Iterator[None]:
    """The app sets the process-wide i18n language; put it back afterwards."""
    from console.core import i18n

    previous = i18n.get_language()
    yield
    i18n.set_language(previous)


@dataclass
class Cable:
    """The loopback ActionCable server, which the test can take down and bring back."""

    state: CableFake
    port: int
    server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/cable"

    async def up(self) -> None:
        self.server = await serve(
            self.state.handler,
            "127.0.0.1",
            self.port,
            subprotocols=[Subprotocol("actioncable-v1-json")],
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """Stop listening and drop every link (what happens to events now is lost)."""
        assert self.server is not None
        self.state.confirmed.clear()
        self.server.close()
        await self.server.wait_closed()
        self.server = None


@asynccontextmanager
async def cable_server(fake: FakeChatwoot) -> AsyncIterator[Cable]:
    cable = Cable(CableFake(fake), 0)
    deliver = cable.state.attach()
    await cable.up()
    try:
        yield cable
    finally:
        if cable.server is not None:
            await cable.down()
        deliver.cancel()


def agent_backend(fake: FakeChatwoot, cable: Cable, token: str = TOKEN) -> ChatwootBackend:
    return ChatwootBackend(
        BASE,
        token,
        ACCOUNT_ID,
        transport=fake.transport(),
        cable_url=cable.url,
        send_presence=False,
        **FAST,
    )


def stored(fake: FakeChatwoot, cid: int) -> list[tuple[str | None, bool, int]]:
    """(content, private, message_type) of every message Chatwoot stored in ``cid``."""
    return [(row["content"], row["private"], row["message_type"]) for row in fake.messages[cid]]


def bodies(pane: Any) -> list[str]:
    return [item.body for item in pane.transcript.items()]


def pane_of(app: AgentConsoleApp, cid: str) -> Any:
    screen = app.agent_screen
    assert screen is not None
    return next((p for p in screen.grid.panes if p.conversation_id == cid), None)


def rows(dialog: Any) -> list[tuple[str, str]]:
    targets = dialog.query_one("#transfer-targets")
    return [
        (str(targets.get_option_at_index(i).id), str(targets.get_option_at_index(i).prompt))
        for i in range(targets.option_count)
    ]


async def pick(pilot: Any, dialog: Any, target: str, note: str = "") -> None:
    """Highlight ``target`` in the transfer dialog with the arrow keys, then Enter (in the
    note field after typing ``note``, if given)."""
    ids = [ident for ident, _ in rows(dialog)]
    for _ in range(ids.index(target)):
        await pilot.press("down")
    if note:
        await pilot.press("tab", *note)
        assert dialog.query_one("#transfer-note").value == note
    await pilot.press("enter")


async def focus_pane(pilot: Any, app: AgentConsoleApp, cid: str) -> Any:
    pane = pane_of(app, cid)
    assert pane is not None
    pane.composer.focus()
    await pilot.pause()
    assert app.agent_screen is not None and app.agent_screen.active_pane is pane
    return pane


def sends(fake: FakeChatwoot) -> list[Any]:
    return [(e.path.rsplit("/", 1)[-1], e.body) for e in fake.mutations()]


# ---------------------------------------------------------------------- agent console


async def test_agent_console_main_paths_on_chatwoot(fake: FakeChatwoot) -> None:
    # Tech (auto-assign on) now has Bo and Cy; Cy is online and a member of inbox 3.
    fake.teams[2]["members"] = [2, 3]
    fake.inboxes[3]["members"].add(3)
    # Dee is online but not in inbox 3: GET /agents lists her, assignable_agents does not.
    fake.users[4] = dict(fake.users[3], id=4, name="Dee Outside", available_name="Dee")
    fake.add_conversation(106, contact=12, inbox=3, team=None, status="open", assignee=None)
    fake.add_message(106, "Second in line", message_type=0, sender=("contact", 12))
    async with cable_server(fake) as cable:
        app = AgentConsoleApp(agent_backend(fake, cable), lang="en")
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_for(pilot, lambda: app.workspace_ready, what="the agent workspace")
            screen = app.agent_screen
            assert screen is not None
            ctl = app.controller
            await wait_for(pilot, lambda: pane_of(app, "102"), what="my chat 102")
            assert [e.id for e in ctl.queued()] == ["101", "106"]

            # Accept: F9 takes the longest-waiting chat, Enter on the queue the highlighted.
            await pilot.press("f9")
            await wait_for(pilot, lambda: pane_of(app, "101"), what="101 accepted")
            assert fake.conversations[101]["assignee"] == 1
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: [e.id for e in ctl.queued()] == ["106"], what="queue")
            await wait_for(
                pilot, lambda: screen.queue_panel.queue_list.option_count == 1, what="queue row"
            )
            assert isinstance(app.focused, QueueList) and app.focused.highlighted == 0
            await pilot.press("enter")
            await wait_for(pilot, lambda: pane_of(app, "106"), what="106 accepted")
            assert fake.conversations[106]["assignee"] == 1
            assert ctl.queued() == []

            # Typing both ways, reply, private note on 101.
            pane = await focus_pane(pilot, app, "101")
            fake.customer_typing(101, True)
            await wait_for(pilot, lambda: "typing…" in pane.header().plain, what="their typing")
            fake.customer_typing(101, False)
            fake.customer_writes(101, "Are you there?")
            await wait_for(pilot, lambda: "Are you there?" in bodies(pane), what="their line")
            await wait_for(pilot, lambda: "typing…" not in pane.header().plain, what="stopped")
            await pilot.press(*"Yes, checking now")
            await wait_for(pilot, lambda: (101, "on", False) in fake.typing, what="my typing")
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: ("Yes, checking now", False, 1) in stored(fake, 101),
                what="the reply stored in Chatwoot",
            )
            await wait_for(pilot, lambda: (101, "off", False) in fake.typing, what="typing off")
            await wait_for(
                pilot,
                lambda: any(
                    i.body == "Yes, checking now" and i.delivery == "sent"
                    for i in pane.transcript.items()
                ),
                what="the reply shown as sent",
            )
            typing_before_note = list(fake.typing)
            await pilot.press("alt+n")
            assert pane.composer.note_mode
            await pilot.press(*"VIP, be nice")
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: ("VIP, be nice", True, 1) in stored(fake, 101),
                what="the note stored private",
            )
            # Writing a note showed the customer no typing, and the note is private.
            assert fake.typing == typing_before_note
            note = next(i for i in pane.transcript.items() if i.body == "VIP, be nice")
            assert note.internal
            assert [r["private"] for r in fake.messages[101] if r["content"] == "VIP, be nice"] == [
                True
            ]
            await pilot.press("alt+n")
            assert not pane.composer.note_mode

            # Transfer to an agent: targets are Chatwoot's assignable agents of inbox 3.
            await focus_pane(pilot, app, "106")
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: app.screen.id == "transfer-dialog", what="transfer")
            dialog = app.screen
            choices = rows(dialog)
            assert [ident for ident, _ in choices] == ["d:1", "d:2", "a:3", "a:2"]
            assert not any("Dee" in prompt for _, prompt in choices)
            assert any(
                e.path.endswith("/assignable_agents") and ("inbox_ids[]", "3") in e.query
                for e in fake.log
            )
            await pick(pilot, dialog, "a:3")
            await wait_for(pilot, lambda: pane_of(app, "106") is None, what="106 transferred")
            assert fake.conversations[106]["assignee"] == 3

            # Transfer to a team with a note: one {team_id}; Chatwoot auto-assigns Cy.
            await focus_pane(pilot, app, "102")
            fake.log.clear()
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: app.screen.id == "transfer-dialog", what="transfer")
            await pick(pilot, app.screen, "d:2", note="App crash, over to Tech")
            await wait_for(pilot, lambda: pane_of(app, "102") is None, what="102 to Tech")
            assert (fake.conversations[102]["team"], fake.conversations[102]["assignee"]) == (2, 3)
            assert [b for p, b in sends(fake) if p == "assignments"] == [{"team_id": 2}]
            # The transfer note went first, as a private note.
            assert ("App crash, over to Tech", True, 1) in stored(fake, 102)

            # Reconnect: the cable goes away; what happens meanwhile is not lost.
            await cable.down()
            await wait_for(
                pilot, lambda: app.backend.connection.phase == "reconnecting", what="link down"
            )
            fake.customer_writes(101, "Written during the gap")
            fake.add_conversation(107, contact=12, inbox=3, team=None, status="open", assignee=None)
            fake.add_message(107, "New while offline", message_type=0, sender=("contact", 12))
            await focus_pane(pilot, app, "101")
            await pilot.press(*"Sent while the feed is down", "enter")  # REST still answers
            await cable.up()
            await wait_for(
                pilot, lambda: "Written during the gap" in bodies(pane), what="the gap's message"
            )
            await wait_for(pilot, lambda: [e.id for e in ctl.queued()] == ["107"], what="107")
            await wait_for(
                pilot,
                lambda: any(
                    i.body == "Sent while the feed is down" and i.delivery == "sent"
                    for i in pane.transcript.items()
                ),
                what="my reply from the gap, sent",
            )
            assert app.backend.connection.phase == "connected"
            assert [c for c, _, _ in stored(fake, 101)].count("Sent while the feed is down") == 1
            for line in (
                "Written during the gap",
                "Yes, checking now",
                "Sent while the feed is down",
            ):
                assert bodies(pane).count(line) == 1, line
            # Live events flow again on the new link.
            fake.customer_writes(101, "Back online")
            await wait_for(pilot, lambda: "Back online" in bodies(pane), what="live again")

            # Resolve: F10, Enter.  The farewell goes first, the transcript to the contact's
            # stored address (the dialog leaves it to the backend), then toggle_status.
            await focus_pane(pilot, app, "101")
            fake.log.clear()
            await pilot.press("f10")
            await wait_for(pilot, lambda: app.screen.id == "close-dialog", what="close dialog")
            farewell = str(app.screen.query_one("#farewell-text").render())
            await pilot.press("enter")
            await wait_for(pilot, lambda: pane_of(app, "101") is None, what="101 resolved")
            assert fake.conversations[101]["status"] == "resolved"
            assert (farewell, False, 1) in stored(fake, 101)
            assert [p for p, _ in sends(fake) if p != "update_last_seen"] == [
                "messages",
                "transcript",
                "toggle_status",
            ]
            assert fake.transcripts == [(101, "carla@example.com")]
            assert app.is_running and not app.errors


# ---------------------------------------------------------------------- terminal safety

HOSTILE = " ".join(HOSTILE_CASES.values())


def check_frame(app: AgentConsoleApp, where: str) -> str:
    """The bytes a real terminal would get: no foreign control, bidi, zero-width or link."""
    frame = frame_bytes(app)
    assert foreign_controls(frame) == [], f"{where}: raw controls reach the terminal"
    assert links_in(frame) == [], f"{where}: a hostile link became a hyperlink"
    return frame


def make_hostile(fake: FakeChatwoot) -> None:
    """Every hostile case in the contact's name, fields and messages, a team and an agent."""
    contact = fake.contacts[11]
    contact["name"] = f"Eve {HOSTILE}"
    contact["custom_attributes"] = {"plan": HOSTILE, HOSTILE[:40]: "x"}
    contact["additional_attributes"] = {"company_name": HOSTILE, "city": HOSTILE}
    contact["labels"] = [HOSTILE]
    fake.teams[1]["name"] = f"Billing {HOSTILE}"
    fake.users[2]["available_name"] = f"Bo {HOSTILE}"
    fake.users[2]["availability_status"] = "online"
    fake.add_message(101, f"queued {HOSTILE}", message_type=0, sender=("contact", 11))
    fake.add_message(102, f"history {HOSTILE}", message_type=0, sender=("contact", 11))


async def test_hostile_chatwoot_text_never_reaches_the_terminal(fake: FakeChatwoot) -> None:
    """Contact name, attributes, labels and messages, a team and a colleague carry every
    HOSTILE_CASES string; REST answers and live events alike reach the screen as text:
    workspace (queue, pane header, transcript, sidebar) at 160x45 and 80x24, the new-chat
    toast, the transfer and close dialogs."""
    make_hostile(fake)
    async with cable_server(fake) as cable:
        app = AgentConsoleApp(agent_backend(fake, cable), lang="en")
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_for(pilot, lambda: app.workspace_ready, what="the agent workspace")
            screen = app.agent_screen
            assert screen is not None
            await wait_for(pilot, lambda: pane_of(app, "102"), what="my chat 102")
            pane = pane_of(app, "102")
            await wait_for(
                pilot, lambda: any(b.startswith("history") for b in bodies(pane)), what="history"
            )
            await wait_for(pilot, lambda: cable.state.confirmed.is_set(), what="live feed")
            # Live: a message and a new chat (Chatwoot's conversation.created is push_data).
            fake.customer_writes(102, f"live {HOSTILE}")
            fake.add_conversation(108, contact=11, inbox=3, team=1, status="open", assignee=None)
            fake.add_message(108, f"new {HOSTILE}", message_type=0, sender=("contact", 11))
            fake.broadcast("conversation.created", fake.push_data(108), fake.audience(108))
            await wait_for(
                pilot, lambda: any(b.startswith("live") for b in bodies(pane)), what="live"
            )
            await wait_for(pilot, lambda: len(app.controller.queued()) == 2, what="new chat queued")
            await wait_for(pilot, lambda: app._notifications, what="the new-chat toast")
            await wait_for(
                pilot, lambda: screen.sidebar.customer_id == "11", what="the contact in the sidebar"
            )
            await pilot.pause(0.5)  # the queue refresh, the sidebar and the toast drawn
            frame = check_frame(app, "workspace 160x45")
            assert "press me" in frame and "Eve" in frame and "history" in frame
            assert all(foreign_controls(n.message) == [] for n in app._notifications)
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.3)
            check_frame(app, "workspace 80x24")
            await pilot.resize_terminal(160, 45)
            await pilot.pause(0.2)
            # Accept the hostile queued chat; then both dialogs over it.
            await pilot.press("f9")
            await wait_for(pilot, lambda: pane_of(app, "101"), what="101 accepted")
            await focus_pane(pilot, app, "101")
            await pilot.pause(0.3)
            check_frame(app, "accepted chat")
            for key, dialog_id in (("ctrl+t", "transfer-dialog"), ("f10", "close-dialog")):
                await pilot.press(key)
                await wait_for(pilot, lambda i=dialog_id: app.screen.id == i, what=dialog_id)
                await pilot.pause(0.2)
                frame = check_frame(app, dialog_id)
                assert "press me" in frame
                if dialog_id == "transfer-dialog":
                    prompts = " ".join(prompt for _, prompt in rows(app.screen))
                    assert "Billing" in prompts and "Bo" in prompts
                await pilot.press("escape")
                await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
            assert app.is_running and not app.errors
        # The dialogs were cancelled: only the accept and read receipts went out.
        assert fake.mutations() == [
            e for e in fake.mutations() if e.path.endswith(("/assignments", "/update_last_seen"))
        ]


# ---------------------------------------------------------------------- supervisor console


@pytest.fixture
def gc_settings() -> Iterator[None]:
    """``prepare_console`` asks for gc tuning (freeze, high thresholds): undo it."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def test_supervisor_console_from_cli_watches_and_sends_nothing(
    fake: FakeChatwoot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, gc_settings: None
) -> None:
    """A read-only Chatwoot profile, built by cli: the dashboard shows the queue, a watch
    pane follows a chat live and across a reconnect, and Chatwoot receives no mutating
    request and no presence (the presence interval is short, so a console that sent it
    would be caught)."""
    import console.backends as backends
    from console.backends.base import ReadOnlyBackend
    from console.cli import build_parser, prepare_console
    from console.ui.screens.supervisor import SupervisorScreen

    make_hostile(fake)
    async with cable_server(fake) as cable:
        real_load = backends.load_backend

        def load(kind: str, **options: Any) -> Any:
            # Only what a test needs to reach the fake; cli decides everything else.
            options.update(transport=fake.transport(), cable_url=cable.url, presence_interval=0.05)
            return real_load(kind, **options, **FAST)

        monkeypatch.setattr(backends, "load_backend", load)
        monkeypatch.setenv("AGENT_CONSOLE_TOKEN", ADMIN_TOKEN)
        config = tmp_path / "config.toml"
        config.write_text(
            f'default_profile = "cw"\n[profiles.cw]\nurl = "{BASE}"\nbackend = "chatwoot"\n'
            f"account_id = {ACCOUNT_ID}\nreadonly = true\n",
            encoding="utf-8",
        )
        args = build_parser().parse_args(["--config", str(config), "--lang", "en"])
        app = prepare_console(args, interactive=False)
        assert app.readonly and isinstance(app.backend, ReadOnlyBackend)
        async with app.run_test(size=(200, 50)) as pilot:
            await wait_for(
                pilot, lambda: isinstance(app.screen, SupervisorScreen), what="supervisor screen"
            )
            screen = app.screen
            assert isinstance(screen, SupervisorScreen)
            dash = screen.dashboard
            await wait_for(
                pilot, lambda: {"101", "102", "105"} <= set(dash.conversations), what="open chats"
            )
            await wait_for(pilot, lambda: cable.state.confirmed.is_set(), what="live feed")
            # The queue: Billing has 101 waiting, Tech has 105 active with Bo.
            stats = {d.department_id: d for d in dash.departments(screen.clock())}
            assert (stats["1"].waiting, stats["2"].active) == (1, 1)
            assert "Billing" in stats["1"].name
            await pilot.pause(0.3)
            check_frame(app, "supervisor dashboard")
            # Watch 101 from the conversations table.
            await pilot.press("c")
            table = screen.conversations_table
            await wait_for(pilot, lambda: table.row_count >= 3, what="conversations table")
            await pilot.pause(0.2)
            check_frame(app, "conversations table")
            table.move_cursor(row=table.get_row_index("101"))
            await pilot.press("w")
            await wait_for(
                pilot,
                lambda: (p := screen.watch_grid.pane("101")) is not None and p.loaded,
                what="the watch pane",
            )
            watch = screen.watch_grid.pane("101")
            assert watch is not None
            fake.customer_writes(101, "Anyone there? (live)")
            await wait_for(
                pilot, lambda: "Anyone there? (live)" in watch.transcript_plain(), what="live line"
            )
            # Reconnect: the cable goes away and comes back; the dashboard and the watch
            # pane get what happened meanwhile (Chatwoot has no replay), with GETs only.
            await cable.down()
            await wait_for(
                pilot, lambda: app.backend.connection.phase == "reconnecting", what="link down"
            )
            fake.customer_writes(101, "Said during the gap")
            fake.add_conversation(107, contact=12, inbox=3, team=None, status="open", assignee=None)
            await cable.up()
            await wait_for(pilot, lambda: "107" in dash.conversations, what="107 on the dashboard")
            await wait_for(
                pilot, lambda: "Said during the gap" in watch.transcript_plain(), what="the gap"
            )
            fake.customer_writes(101, "Live after the gap")
            await wait_for(
                pilot, lambda: "Live after the gap" in watch.transcript_plain(), what="live again"
            )
            plain = watch.transcript_plain()
            assert plain.count("Said during the gap") == 1 and plain.count("Anyone there?") == 1
            await pilot.press("v")
            await pilot.pause(0.3)
            frame = check_frame(app, "watch pane")
            assert "press me" in frame  # the markup case shows as text
            await pilot.pause(0.3)  # a presence refresh would have gone out by now
            assert app.is_running and not app.errors
        assert fake.mutations() == []
        assert cable.state.presence == []
        assert fake.last_seen == [] and fake.typing == []
