"""Attachments in the workspace (issue 14) against the real reference server.

A customer's file is saved from the alt+a list to the downloads folder under a
safe name (the customer's '../../' and an existing file are harmless: a new
'name (1).ext', no execute bit); alt+u sends a file from a typed path with Tab
completion and the customer receives it; hostile file names stay text.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from textual import events

from console.core import paths
from tests.core.safety import HOSTILE_CASES
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _customer_sends_file(customer: Customer, filename: str, content: bytes, kind: str) -> None:
    r = customer.http.post("/attachments", files={"file": (filename, content, kind)})
    assert r.status_code == 201, r.text
    attachment = r.json()
    r = customer.http.post(
        f"/customer/conversations/{customer.conversation_id}/messages",
        json={
            "client_id": f"file-{attachment['id']}",
            "body": "",
            "attachment_ids": [attachment["id"]],
        },
    )
    assert r.status_code in (200, 201), r.text


@pytest.fixture
def downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "Downloads"
    monkeypatch.setenv(paths.DOWNLOADS_ENV, str(folder))
    return folder


async def test_a_saved_attachment_lands_under_a_safe_new_name(
    ref_server: RefServer, downloads: Path
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ada", department=dept)
    customer = Customer(ref_server, "Mina")
    downloads.mkdir()
    (downloads / "screenshot.png").write_bytes(b"the agent's own file")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "see the picture")
        await asyncio.to_thread(
            _customer_sends_file, customer, "../../screenshot.png", PNG, "image/png"
        )
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot,
            lambda: (
                screen.grid.panes
                and app.controller.attachments_of(screen.grid.panes[0].conversation_id)
            ),
            what="the file in the chat",
        )
        await pilot.press("alt+a")
        await wait_for(pilot, lambda: app.screen.id == "files-dialog", what="files dialog")
        files = app.screen.query_one("#files-list")
        row = str(files.get_option_at_index(0).prompt)  # type: ignore[attr-defined]
        assert "🖼" in row and "image/png" in row and f"{len(PNG)} B" in row
        await pilot.press("enter")
        saved = downloads / "screenshot (1).png"
        await wait_for(pilot, saved.exists, what="saved file")
        await wait_for(
            pilot,
            lambda: any(str(saved) in str(n.message) for n in app._notifications),
            what="toast naming the file",
        )
    assert saved.read_bytes() == PNG
    assert (downloads / "screenshot.png").read_bytes() == b"the agent's own file"
    assert stat.S_IMODE(saved.stat().st_mode) & 0o111 == 0
    assert sorted(p.name for p in downloads.iterdir()) == ["screenshot (1).png", "screenshot.png"]
    assert not list(downloads.parent.glob("screenshot*"))  # nothing escaped the folder


async def test_send_file_from_a_completed_path(ref_server: RefServer, tmp_path: Path) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Bea", department=dept)
    customer = Customer(ref_server, "Kai")
    folder = tmp_path / "outgoing"
    folder.mkdir()
    (folder / "invoice-2026-12.pdf").write_bytes(b"%PDF-1.4 invoice")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "please send the invoice")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        await pilot.press("alt+u")
        await wait_for(pilot, lambda: app.screen.id == "send-file-dialog", what="send dialog")
        path_input = app.screen.query_one("#send-file-path")
        # Typed and Tab in one burst, as tmux delivers them: the completion sees every character.
        for character in str(folder / "inv"):
            app.post_message(events.Key(character, character))
        app.post_message(events.Key("tab", "\t"))
        await wait_for(pilot, lambda: path_input.value.endswith(".pdf"), what="completed")  # type: ignore[attr-defined]
        assert path_input.value == str(folder / "invoice-2026-12.pdf")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")

        def received() -> bool:
            return any(
                a["filename"] == "invoice-2026-12.pdf"
                for msg in customer.messages()
                for a in msg.get("attachments", [])
            )

        await wait_for(pilot, received, what="the customer has the file")


async def test_hostile_file_names_stay_text(ref_server: RefServer, downloads: Path) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Cam", department=dept)
    customer = Customer(ref_server, "Hal")
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "files")
        for case in HOSTILE_CASES.values():
            await asyncio.to_thread(
                _customer_sends_file, customer, case + ".txt", b"x", "text/plain"
            )
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot,
            lambda: (
                screen.grid.panes
                and len(app.controller.attachments_of(screen.grid.panes[0].conversation_id))
                == len(HOSTILE_CASES)
            ),
            what="every file in the chat",
        )
        await pilot.press("alt+a")
        await wait_for(pilot, lambda: app.screen.id == "files-dialog", what="files dialog")
        await pilot.pause(0.1)
        frame = frame_bytes(app)
        assert foreign_controls(frame) == []
        assert links_in(frame) == []
        for _ in HOSTILE_CASES:
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen is screen, what="saved")
            await pilot.press("alt+a")
            await wait_for(pilot, lambda: app.screen.id == "files-dialog", what="files dialog")
        await wait_for(
            pilot, lambda: len(list(downloads.iterdir())) == len(HOSTILE_CASES), what="all saved"
        )
        assert all(p.parent == downloads for p in downloads.rglob("*"))
        assert app.is_running
