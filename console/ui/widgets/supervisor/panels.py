"""Small supervisor panels: the READ-ONLY bar, traffic sparkline, alerts list.

Every string that can carry untrusted text (customer and agent names in
alerts) is assembled as ``Content`` from plain parts; nothing is parsed as
markup.  Styles use theme variables (``$error``) so dark and light themes
both read well.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Sparkline, Static

from console.core.dashboard import Alert, AlertKind, Traffic, format_duration
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


class TrafficPanel(Vertical):
    """New chats per minute as a sparkline, plus abandoned today."""

    DEFAULT_CSS = """
    TrafficPanel { height: 3; }
    TrafficPanel > Sparkline { height: 1; margin: 0 1; }
    TrafficPanel > Static { height: 1; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.traffic: Traffic | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="traffic-title", markup=False)
        yield Sparkline([], id="traffic-sparkline")
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
        self.query_one(Sparkline).data = [float(v) for v in series]
        self.query_one("#traffic-abandoned", Static).update(
            Content.styled(
                t("supervisor.traffic.abandoned", count=traffic.abandoned),
                "$warning" if traffic.abandoned else "",
            )
        )


def alert_line(alert: Alert) -> Content:
    """One alert as a sentence; names are inserted as plain text."""
    name = clean(alert.subject_name)
    if alert.kind is AlertKind.OFFLINE:
        return Content.styled("⚠ " + t("supervisor.alerts.offline"), "bold $error")
    if alert.kind is AlertKind.FRUSTRATED:
        text = t("supervisor.alerts.frustrated", name=name, severity=int(alert.value))
        return Content.styled("● " + text, "bold $error" if alert.value >= 3 else "$warning")
    if alert.kind is AlertKind.LONG_WAIT:
        text = t("supervisor.alerts.long_wait", name=name, wait=format_duration(alert.value))
        return Content.styled("◷ " + text, "$warning")
    text = t(
        "supervisor.alerts.over_capacity",
        name=name,
        load=int(alert.value),
        capacity=int(alert.limit),
    )
    return Content.styled("▲ " + text, "$error")


class AlertsPanel(Static):
    """The current alerts, most serious first; a calm sentence when there are none."""

    DEFAULT_CSS = """
    AlertsPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.alerts: tuple[Alert, ...] | None = None
        self.limit = 20

    def show(self, alerts: Sequence[Alert]) -> None:
        current = tuple(alerts)
        if current == self.alerts:
            return
        self.alerts = current
        title = Content.styled(t("supervisor.alerts.title"), "bold")
        if not current:
            body = [Content.styled(t("supervisor.alerts.none"), "$success")]
        else:
            body = [alert_line(a) for a in current[: self.limit]]
            if len(current) > self.limit:
                body.append(Content(f"… +{len(current) - self.limit}"))
        self.update(Content("\n").join([title, *body]))

    @property
    def plain(self) -> str:
        content = self.render()
        return content.plain if isinstance(content, Content) else str(content)
