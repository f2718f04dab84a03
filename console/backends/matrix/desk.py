"""What the team's desk account does: set up the team room and open conversation rooms.

The console never runs as the desk.  These coroutines are for whatever sits in
front of customers with the desk's token: a web widget's server, a bridge's
provisioning hook, the simulator, the tests (docs/matrix.md).
"""

from __future__ import annotations

import time
from typing import Any

from console.backends.matrix._api import CLIENT, Api, seg
from console.backends.matrix.backend import AGENT_LEVEL, CONVERSATION, DEPARTMENT

CUSTOMER_LEVEL = 10


class Desk:
    """The desk account: ``Desk(homeserver_url, desk_token, desk_user_id)``."""

    def __init__(self, base_url: str, token: str, user_id: str, *, timeout: float = 10.0) -> None:
        self.user_id = user_id
        self.api = Api(base_url, token, timeout=timeout)

    async def aclose(self) -> None:
        await self.api.aclose()

    async def create_team_room(
        self,
        *,
        agents: list[str],
        supervisors: list[str],
        departments: dict[str, str],
        alias: str | None = None,
        name: str = "Support team",
    ) -> str:
        """A private room: agents 50, supervisors 0, writes need 50.  Returns its id."""
        users = {self.user_id: 100, **{a: AGENT_LEVEL for a in agents}}
        body: dict[str, Any] = {
            "preset": "private_chat",
            "name": name,
            "invite": [*agents, *supervisors],
            "power_level_content_override": {
                "users": users,
                "users_default": 0,
                "events_default": AGENT_LEVEL,
                "state_default": AGENT_LEVEL,
                "invite": AGENT_LEVEL,
            },
            "initial_state": [
                {"type": DEPARTMENT, "state_key": key, "content": {"name": label}}
                for key, label in departments.items()
            ],
        }
        if alias:
            body["room_alias_name"] = alias
        data = await self.api.post_json(CLIENT + "/createRoom", body)
        return str(data["room_id"])

    async def open_conversation(
        self,
        team_room: str,
        *,
        customer: str,
        customer_name: str,
        department: str,
        agents: list[str] | None = None,
    ) -> str:
        """Create the customer's room (restricted to team members) and queue it.  Returns its id."""
        now = int(time.time() * 1000)
        users = {self.user_id: 100, customer: CUSTOMER_LEVEL}
        users.update({a: AGENT_LEVEL for a in agents or []})
        data = await self.api.post_json(
            CLIENT + "/createRoom",
            {
                "preset": "private_chat",
                "name": customer_name,
                "invite": [customer],
                "room_version": "10",
                "power_level_content_override": {
                    "users": users,
                    "users_default": 0,
                    "events_default": CUSTOMER_LEVEL,
                    "state_default": AGENT_LEVEL,
                    "invite": AGENT_LEVEL,
                },
                "initial_state": [
                    {
                        "type": "m.room.join_rules",
                        "state_key": "",
                        "content": {
                            "join_rule": "restricted",
                            "allow": [{"type": "m.room_membership", "room_id": team_room}],
                        },
                    },
                    {
                        "type": "m.room.history_visibility",
                        "state_key": "",
                        "content": {"history_visibility": "shared"},
                    },
                ],
            },
        )
        room_id = str(data["room_id"])
        await self.api.put_json(
            CLIENT + f"/rooms/{seg(team_room)}/state/{CONVERSATION}/{seg(room_id)}",
            {
                "state": "queued",
                "department": department,
                "customer": customer,
                "customer_name": customer_name,
                "assignee": None,
                "created_at": now,
                "queued_at": now,
            },
        )
        return room_id
