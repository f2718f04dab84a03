"""Widgets of the supervisor console (read-only): tables, panels and watch panes."""

from console.ui.widgets.supervisor.panels import AlertsPanel, ReadOnlyBar, TrafficPanel
from console.ui.widgets.supervisor.tables import (
    AgentTable,
    ConversationTable,
    DepartmentTable,
    LiveTable,
)
from console.ui.widgets.supervisor.watch import MAX_WATCHED, WatchGrid, WatchPane

__all__ = [
    "MAX_WATCHED",
    "AgentTable",
    "AlertsPanel",
    "ConversationTable",
    "DepartmentTable",
    "LiveTable",
    "ReadOnlyBar",
    "TrafficPanel",
    "WatchGrid",
    "WatchPane",
]
