"""Small supervisor panels: the READ-ONLY bar, traffic sparkline, alerts list.

Every string that can carry untrusted text (customer and agent names in
alerts) is assembled as ``Content`` from plain parts; nothing is parsed as
markup.  Styles use theme variables (``$error``) so dark and light themes
both read well.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from console.core.dashboard import (
    ALERTS_PER_KIND,
    Alert,
    AlertGroup,
    AlertKind,
    Traffic,
    arrange_alerts,
)
from console.core.duration import format_duration
from console.core.i18n import t
from console.ui.widgets.supervisor.cells import clean


class ReadOnlyBar(Static):
    """One line, always visible: READ-ONLY badge, link state, alerts, view, sort, filter, watching."""

    DEFAULT_CSS = """
    ReadOnlyBar {
        height: 1;
        width: 100%;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.parts: dict[str, str] = {}
        self.alert_count = 0
        self.online_phase = "connecting"
        self.show_state()

    def show_state(
        self,
        *,
        phase: str | None = None,
        view: str | None = None,
        order: str | None = None,
        filter_text: str | None = None,
        alerts: int | None = None,
        watching: tuple[int, int] | None = None,
    ) -> None:
        if phase is not None:
            self.online_phase = phase
        if alerts is not None:
            self.alert_count = alerts
        if view is not None:
            self.parts["view"] = t(f"supervisor.view.{view}")
        if order is not None:
            self.parts["order"] = t("supervisor.sort_label", order=t(f"supervisor.sort.{order}"))
        if filter_text is not None:
            self.parts["filter"] = (
                t("supervisor.filter_label", text=clean(filter_text)) if filter_text else ""
            )
        if watching is not None:
            count, most = watching
            self.parts["watching"] = (
                t("supervisor.watching_count", count=count, max=most) if count else ""
            )
        phase_style = {
            "connected": "$success",
            "connecting": "$warning",
            "reconnecting": "$warning",
        }.get(self.online_phase, "bold $error")
        pieces: list[str | tuple[str, str]] = [
            (f" {t('supervisor.readonly')} ", "bold reverse $warning"),
            " ",
            (t(f"supervisor.connection.{self.online_phase}"), phase_style),
        ]
        if self.alert_count:  # right after the link state: at 80 columns the end gets cut off
            pieces += [" · ", (t("supervisor.alerts_count", count=self.alert_count), "bold $error")]
        for name in ("view", "order", "filter", "watching"):
            text = self.parts.get(name, "")
            if text:
                pieces += [" · ", text]
        self.update(Content.assemble(*pieces))

    @property
    def plain(self) -> str:
        content = self.render()
        return content.plain if isinstance(content, Content) else str(content)


class TrafficAxis(Static):
    """The sparkline's time axis and scale: ``-30m`` at the left, ``█ = 5/min`` (the height
    of the tallest bar) in the middle, ``now`` at the right."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.minutes = 30
        self.peak = 0

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        left = t("supervisor.traffic.ago", minutes=self.minutes)
        middle = t("supervisor.traffic.scale", peak=self.peak)
        right = t("supervisor.traffic.now")
        used = cell_len(left) + cell_len(middle) + cell_len(right)
        if width < used + 2:
            gap = max(1, width - cell_len(left) - cell_len(right))
            return Content.styled(left + " " * gap + right, "$text-muted")
        centre = width // 2 - cell_len(middle) // 2
        first = max(1, centre - cell_len(left))
        second = max(1, width - centre - cell_len(middle) - cell_len(right))
        return Content.styled(left + " " * first + middle + " " * second + right, "$text-muted")


class TrafficPanel(Vertical):
    """New chats per minute as a sparkline with its scale and time axis, plus abandoned today."""

    DEFAULT_CSS = """
    TrafficPanel { height: 4; }
    TrafficPanel > Sparkline { height: 1; margin: 0 1; }
    TrafficPanel > Static { height: 1; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.traffic: Traffic | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="traffic-title", markup=False)
        yield Sparkline([], id="traffic-sparkline")
        yield TrafficAxis(id="traffic-axis")
        yield Static("", id="traffic-abandoned", markup=False)

    def show(self, traffic: Traffic) -> None:
        if traffic == self.traffic:
            return
        self.traffic = traffic
        series = traffic.new_per_minute
        self.query_one("#traffic-title", Static).update(
            Content(
                t(
                    "supervisor.traffic.title",
                    minutes=len(series),
                    total=sum(series),
                    current=series[-1] if series else 0,
                )
            )
        )
        axis = self.query_one(TrafficAxis)
        scale = (len(series), max(series, default=0))
        if (axis.minutes, axis.peak) != scale:
            axis.minutes, axis.peak = scale
            axis.refresh()
        self.query_one(Sparkline).data = [float(v) for v in series]
        self.query_one("#traffic-abandoned", Static).update(
            Content.styled(
                t("supervisor.traffic.abandoned", count=traffic.abandoned),
                "$warning" if traffic.abandoned else "",
            )
        )


_ALERT_ICON = {
    AlertKind.OFFLINE: "⚠",
    AlertKind.NO_AGENT_ONLINE: "⚠",
    AlertKind.FRUSTRATED: "●",
    AlertKind.LONG_WAIT: "◷",
    AlertKind.UNANSWERED: "◷",
    AlertKind.ESCALATED: "⚑",
    AlertKind.OVER_CAPACITY: "▲",
    AlertKind.DEPARTMENT_CLOSED: "◌",
}


def alert_sentence(kind: AlertKind, alert: Alert, value: float) -> str:
    """The sentence for one reason (names already cleaned by the caller's ``alert``)."""
    name = clean(alert.subject_name)
    if kind is AlertKind.OFFLINE:
        return t("supervisor.alerts.offline")
    if kind is AlertKind.FRUSTRATED:
        return t("supervisor.alerts.frustrated", name=name, severity=int(value))
    if kind is AlertKind.LONG_WAIT:
        return t("supervisor.alerts.long_wait", name=name, wait=format_duration(value))
    if kind is AlertKind.UNANSWERED:
        return t("supervisor.alerts.unanswered", name=name, wait=format_duration(value))
    if kind is AlertKind.OVER_CAPACITY:
        return t(
            "supervisor.alerts.over_capacity",
            name=name,
            load=int(value),
            capacity=int(alert.limit),
        )
    if kind is AlertKind.ESCALATED:
        return t("supervisor.alerts.escalated", name=name)
    if kind is AlertKind.NO_AGENT_ONLINE:
        return t("supervisor.alerts.no_agent_online", department=name, count=int(value))
    return t("supervisor.alerts.department_closed", department=name, count=int(value))


def alert_line(alert: Alert) -> Content:
    """One alert as a sentence, then where it is (department · agent) and merged reasons.

    Names are inserted as plain text into ``Content`` parts; nothing is parsed as markup.
    """
    style = "bold $error" if alert.level >= 3 else "$warning"
    if alert.kind is AlertKind.OVER_CAPACITY:
        style = "$error"
    parts: list[str | tuple[str, str]] = [
        (f"{_ALERT_ICON[alert.kind]} {alert_sentence(alert.kind, alert, alert.value)}", style)
    ]
    for kind, value in alert.also:
        parts += [" ", (f"{_ALERT_ICON[kind]} {alert_sentence(kind, alert, value)}", "$warning")]
    if alert.conversation_id is not None:
        agent = clean(alert.agent_name) or t("supervisor.department.unassigned")
        where = t("supervisor.alerts.where", department=clean(alert.department_name), agent=agent)
        parts += [" ", (f"({where})", "$text-muted")]
    return Content.assemble(*parts)


def group_title(group: AlertGroup) -> Content:
    if not group.department_id:
        return Content.styled(t("supervisor.alerts.team"), "bold $accent")
    return Content.styled(clean(group.department_name), "bold $accent")


class AlertsPanel(OptionList):
    """The current alerts by department, most serious first; Enter on a chat opens it.

    Each kind shows at most ``per_kind`` lines (``arrange_alerts``), so a flood of long
    waits never hides the one agent over capacity; what the cap hid is counted per kind.
    """

    DEFAULT_CSS = """
    AlertsPanel { height: auto; max-height: 100%; border: none; padding: 0 1; }
    AlertsPanel:focus { border: none; }
    """

    class Chosen(Message):
        """Enter (or a click) on an alert about a chat."""

        def __init__(self, conversation_id: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.alerts: tuple[Alert, ...] | None = None
        self.per_kind = ALERTS_PER_KIND
        self.lines: list[Content] = []
        self._targets: dict[int, str] = {}

    def show(self, alerts: Sequence[Alert]) -> None:
        current = tuple(alerts)
        if current == self.alerts:
            return
        self.alerts = current
        lines: list[tuple[Content, str | None]] = [
            (Content.styled(t("supervisor.alerts.title"), "bold"), None)
        ]
        if not current:
            lines.append((Content.styled(t("supervisor.alerts.none"), "$success"), None))
        else:
            board = arrange_alerts(current, self.per_kind)
            for group in board.groups:
                lines.append((group_title(group), None))
                for alert in group.alerts:
                    lines.append((Content("  ") + alert_line(alert), alert.conversation_id))
            for kind, count in board.hidden:
                more = t(
                    "supervisor.alerts.more", count=count, kind=t(f"supervisor.alert_kind.{kind}")
                )
                lines.append((Content.styled(f"… {more}", "$text-muted"), None))
        highlighted = self.highlighted
        self.clear_options()
        self._targets = {}
        options: list[Option] = []
        for index, (content, target) in enumerate(lines):
            options.append(Option(content, disabled=target is None))
            if target is not None:
                self._targets[index] = target
        self.add_options(options)
        self.lines = [content for content, _ in lines]
        if highlighted is not None and highlighted in self._targets:
            self.highlighted = highlighted

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        target = self._targets.get(event.option_index)
        if target is not None:
            self.post_message(self.Chosen(target))

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)
