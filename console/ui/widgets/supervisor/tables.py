"""Live tables of the supervisor screen, updated in place.

Each table keeps its rows keyed by the department/agent/conversation id and
compares new cells with what it shows; only changed cells go through
``DataTable.update_cell``.  Rows are added/removed one by one and re-sorted
(``DataTable.sort`` with our own key) only when something that affects the
order changed.  Nothing here rebuilds a table per event: the screen calls
``apply_*`` from its refresh timer with the set of dirty ids.

Repaint is incremental too.  Textual's ``DataTable`` repaints the whole widget
on every ``update_cell``, ``remove_row``, ``sort`` and change of virtual size
(each one invalidates every cached line), so with 1,000 conversations and a
change in almost every tick the visible ~50 rows were re-rendered 5 times a
second.  ``LiveTable`` writes cells, removes and re-orders rows itself and
repaints only the rows on screen whose content or position changed (rows
off screen cost nothing); a full repaint still happens when the widget's size
or a column width changes.

Figure columns have fixed widths (wide enough for the translated header).
Text columns (names, departments) are ``flex``: they take the width of their
widest cell (Rich cell measurement, so Korean and Japanese count two cells a
character) up to a share of the table's width, measured once per changed cell
as rows are upserted (never by re-reading 1,000 rows), and re-fitted when the
table is resized.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, CursorType, RowKey

from console.core.dashboard import AgentRow, ConversationRow, Dashboard, DepartmentStats
from console.core.i18n import t
from console.ui.widgets.supervisor.cells import (
    KeyedText,
    Palette,
    cell,
    clean,
    duration_cell,
    number_cell,
)


def same_cells(a: tuple[Text, ...], b: tuple[Text, ...]) -> bool:
    """Equal as shown: ``Text.__eq__`` ignores the base style, so compare it too."""
    return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))


def _same(x: Text, y: Text) -> bool:
    return x.plain == y.plain and (x.style is y.style or x.style == y.style) and x.spans == y.spans


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label_key: str
    width: int
    """Fixed width; for a ``flex`` column the narrowest it gets."""
    flex: bool = False
    """Text column: as wide as its widest cell, within the table's width."""
    most: int = 48
    """A flex column never grows past this (one long name must not take the table)."""


class LiveTable(DataTable[Text]):
    """A ``DataTable`` whose rows are upserted by key and whose cells change in place."""

    COLUMNS: Sequence[Column] = ()
    CURSOR: CursorType = "row"
    """Summary tables use "none": a cursor bar would hide the first row's red/yellow cells."""
    _quiet = False
    """Inside ``_quiet_repaint``: a whole-widget repaint request becomes layout only."""
    full_repaints = 0
    """Count of whole-table repaints requested (tests check updates stay partial)."""

    DEFAULT_CSS = """
    LiveTable { height: auto; max-height: 100%; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id,
            classes=classes,
            cursor_type=self.CURSOR,
            zebra_stripes=False,
            show_row_labels=False,
        )
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._palette: Palette | None = None
        self._palette_key: tuple[str | None, ...] = ()
        self.cell_updates = 0
        """Count of ``update_cell`` calls (tests check rows change in place)."""
        self.rows_added = 0
        self._widest: dict[str, int] = {}
        """Flex columns: the widest cell seen (cells) - grows as rows come, reset on rebuild."""
        self._fitted: tuple[int, ...] = ()

    # ------------------------------------------------------------ partial repaint
    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Any:
        if repaint and not regions and not recompose:
            if self._quiet:
                repaint = False  # the rows that changed are repainted by region
            else:
                self.full_repaints += 1
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    @contextmanager
    def _quiet_repaint(self) -> Iterator[None]:
        """DataTable internals that repaint the whole widget repaint nothing in here."""
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    def _visible_rows(self) -> range:
        """Row indices inside the window (rows are one line high; may pass the last row)."""
        top = max(0, int(self.scroll_y))
        height = max(1, self.size.height - (self.header_height if self.show_header else 0))
        return range(top, top + height + 1)

    def _repaint_rows(self, indices: Iterable[int]) -> None:
        """Repaint these rows if they are on screen."""
        visible = self._visible_rows()
        header = self.header_height if self.show_header else 0
        width = max(
            self.size.width,
            sum(column.get_render_width(self) for column in self.columns.values())
            + self._row_label_column_width,
        )
        for index in indices:
            if index in visible:
                self._refresh_region(Region(0, header + index, width, 1))

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Text,
        *,
        update_width: bool = False,
    ) -> None:
        """``DataTable.update_cell`` that repaints only this row (and only if on screen)."""
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row = RowKey(row_key) if isinstance(row_key, str) else row_key
        column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        index = self._row_locations.get(row)
        if index is None or column not in self._column_locations:
            super().update_cell(row, column, value)  # raises CellDoesNotExist
            return
        self._data[row][column] = value
        self._update_count += 1  # every cached line is stale; only dirty lines re-render
        self._repaint_rows((index,))

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # A new row changes the virtual size only (the scrollbar); the widget's own
        # size and column widths changing still repaint everything.
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        with self._quiet_repaint():
            super()._update_dimensions(new_rows)
        if widths != [column.get_render_width(self) for column in self.ordered_columns]:
            self.refresh()

    def reorder(self, keys: Sequence[str]) -> bool:
        """Put the rows in this order (exactly the keys shown); repaint the moved ones.

        Returns False when the order was already this one."""
        old = self._row_locations
        new = TwoWayDict({RowKey(key): index for index, key in enumerate(keys)})
        moved = [
            index
            for index, key in enumerate(keys)
            if (current := old.get_key(index)) is None or current.value != key
        ]
        if not moved:
            return False
        self._row_locations = new
        self._update_count += 1
        self._repaint_rows(moved)
        return True

    def on_mount(self) -> None:
        for column in self.COLUMNS:
            label = Text(t(column.label_key))
            # Never cut a header: translated labels may be wider than the data.
            width = max(column.width, label.cell_len)
            self.add_column(label, width=width, key=column.key)
            if column.flex:
                self._widest[column.key] = width

    def on_resize(self) -> None:
        self.fit_columns()

    def _measure(self, cells: tuple[Text, ...]) -> bool:
        grew = False
        for column, value in zip(self.COLUMNS, cells, strict=True):
            if column.flex:
                width = min(cell_len(value.plain), column.most)
                if width > self._widest.get(column.key, 0):
                    self._widest[column.key] = width
                    grew = True
        return grew

    def available_width(self) -> int:
        """Cells the table may use: its own width, else the screen's (before layout).

        A table sized by its content (``width: auto``, departments beside agents) may
        use half of its container."""
        width = self.size.width or (self.screen.size.width if self.is_attached else 0)
        width_rule = self.styles.width
        if width_rule is not None and width_rule.is_auto and self.parent is not None:
            width = self.parent.size.width // 2  # type: ignore[attr-defined]
        return max(0, width - 2)  # the vertical scrollbar

    def fit_columns(self) -> None:
        """Give flex columns the width of their widest cell, within the table's width.

        Spare cells go to the flex columns (widest content first); when space is short
        they shrink towards their minimum, never below the header.
        """
        if not self.is_mounted or not self._widest:
            return
        columns = self.ordered_columns
        padding = 2 * self.cell_padding
        fixed = sum(
            c.width + padding
            for c, spec in zip(columns, self.COLUMNS, strict=True)
            if not spec.flex
        )
        flex = [(i, spec) for i, spec in enumerate(self.COLUMNS) if spec.flex]
        room = self.available_width() - fixed - padding * len(flex)
        floor = [max(spec.width, columns[i].label.cell_len) for i, spec in flex]
        want = [
            max(f, self._widest.get(spec.key, 0)) for f, (_i, spec) in zip(floor, flex, strict=True)
        ]
        widths = list(want)
        while sum(widths) > room and any(w > f for w, f in zip(widths, floor, strict=True)):
            widest = max(range(len(widths)), key=lambda k: widths[k] - floor[k])
            widths[widest] -= 1
        fitted = tuple(widths)
        if fitted == self._fitted:
            return
        self._fitted = fitted
        for (i, _spec), width in zip(flex, widths, strict=True):
            columns[i].width = width
        # DataTable has no public "set column width": these two are what its own
        # add_column/update_cell do after a width change (render caches, virtual size).
        self._require_update_dimensions = True
        self._clear_caches()
        self.refresh()

    @property
    def palette(self) -> Palette:
        """Styles for the current theme (rebuilt only when the theme changes)."""
        variables = self.app.theme_variables
        key = (variables.get("error"), variables.get("warning"), variables.get("success"))
        if self._palette is None or self._palette_key != key:
            self._palette = Palette(variables)
            self._palette_key = key
        return self._palette

    def upsert(self, key: str, cells: tuple[Text, ...]) -> bool:
        """Show ``cells`` for row ``key``; returns True when the row is new."""
        old = self._shown.get(key)
        if old is None:
            self.add_row(*cells, key=key)
            self._shown[key] = cells
            self.rows_added += 1
            self._repaint_rows((self.row_count - 1,))
            if self._measure(cells):
                self.fit_columns()
            return True
        if same_cells(old, cells):
            return False
        if self._measure(cells):
            self.fit_columns()
        row_key = RowKey(key)
        for column, before, after in zip(self.COLUMNS, old, cells, strict=True):
            if not _same(before, after):
                self.update_cell(row_key, ColumnKey(column.key), after)
                self.cell_updates += 1
        self._shown[key] = cells
        return False

    def drop(self, key: str) -> None:
        if self._shown.pop(key, None) is not None:
            index = self._row_locations.get(RowKey(key))
            with self._quiet_repaint():
                self.remove_row(key)
            if index is not None:  # the rows below moved up a line
                self._repaint_rows(range(index, self.row_count + 1))

    def keys(self) -> list[str]:
        return list(self._shown)

    def cell_text(self, key: str, column: str) -> str:
        """Plain text of one cell, as shown (tests read the table through this)."""
        value = self.get_cell(key, column)
        return value.plain if isinstance(value, Text) else str(value)

    def highlighted_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return row_key.value

    def sync_keys(self, keys: Iterable[str]) -> None:
        """Drop rows whose key is not in ``keys``."""
        wanted = set(keys)
        for key in [k for k in self._shown if k not in wanted]:
            self.drop(key)


class DepartmentTable(LiveTable):
    CURSOR = "none"
    COLUMNS = (
        Column("department", "supervisor.col.department", 12, flex=True),
        Column("waiting", "supervisor.col.waiting", 7),
        Column("active", "supervisor.col.active", 6),
        Column("longest", "supervisor.col.longest_wait", 8),
        Column("first", "supervisor.col.avg_first_response", 9),
        Column("sla", "supervisor.col.sla_breaches", 6),
        Column("abandoned", "supervisor.col.abandoned", 6),
    )

    def row_cells(self, d: DepartmentStats, p: Palette) -> tuple[Text, ...]:
        name = d.name if d.open_now else f"{d.name} ({t('supervisor.department.closed_now')})"
        return (
            cell(name, p.plain if d.open_now else p.muted),
            number_cell(d.waiting, p.warning if d.waiting else p.plain),
            number_cell(d.active),
            duration_cell(
                d.longest_wait_seconds if d.waiting else None,
                p.error if d.longest_wait_breached else p.plain,
            ),
            duration_cell(
                d.avg_first_response_seconds, p.error if d.first_response_breached else p.plain
            ),
            number_cell(d.sla_breaches, p.error if d.sla_breaches else p.plain),
            number_cell(d.abandoned, p.warning if d.abandoned else p.plain),
        )

    def apply(self, stats: Sequence[DepartmentStats]) -> None:
        p = self.palette
        for d in stats:
            self.upsert(d.department_id, self.row_cells(d, p))
        self.sync_keys(d.department_id for d in stats)


def agent_cell(a: AgentRow, p: Palette) -> Text:
    """The agent's name, their follow-ups due within 24 h and late ones (red), if any, then
    the departments they serve (muted).

    In the name cell rather than a column of its own, so the table still fits at 150
    columns with the sidebar (the name is the flexible column)."""
    text = cell(a.name)
    if a.follow_ups_due or a.follow_ups_overdue:
        text.append(" ")
        text.append(
            t("supervisor.col.follow_ups_cell", due=a.follow_ups_due, late=a.follow_ups_overdue),
            style=p.error if a.follow_ups_overdue else p.muted,
        )
    if a.department_names:  # last: cut first when the column is narrow
        text.append(" · " + ", ".join(clean(name) for name in a.department_names), p.muted)
    return text


class AgentTable(LiveTable):
    CURSOR = "none"
    COLUMNS = (
        Column("agent", "supervisor.col.agent", 8, flex=True, most=60),
        Column("status", "supervisor.col.status", 10),
        Column("load", "supervisor.col.load", 6),
        Column("chats", "supervisor.col.chats", 6),
        Column("avg", "supervisor.col.avg_response", 9),
        Column("last", "supervisor.col.last_reply", 9),
    )

    def row_cells(self, a: AgentRow, p: Palette) -> tuple[Text, ...]:
        status = t(f"supervisor.status.{a.status}")
        if not a.accepting and a.status == "online":
            status = f"{status}*"
        status_style = {"online": p.success, "away": p.warning}.get(a.status, p.muted)
        return (
            agent_cell(a, p),
            cell(status, status_style),
            Text(
                f"{a.load}/{a.capacity}",
                style=p.error if a.over_capacity else p.plain,
                justify="right",
                no_wrap=True,
                end="",
            ),
            number_cell(a.chats),
            duration_cell(a.avg_response_seconds),
            duration_cell(a.seconds_since_last_reply),
        )

    def apply(self, rows: Sequence[AgentRow]) -> None:
        p = self.palette
        for a in rows:
            self.upsert(a.agent_id, self.row_cells(a, p))
        self.sync_keys(a.agent_id for a in rows)


class ConversationTable(LiveTable):
    """Every queued and active conversation; sorted and filtered without rebuilding."""

    COLUMNS = (
        Column("customer", "supervisor.col.customer", 14, flex=True),
        Column("department", "supervisor.col.department", 10, flex=True),
        Column("state", "supervisor.col.state", 7),
        Column("agent", "supervisor.col.agent", 10, flex=True),
        Column("wait", "supervisor.col.wait", 7),
        Column("severity", "supervisor.col.severity", 8),
    )

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.order = "wait"
        self.filter_text = ""
        self.sorts = 0
        """Count of re-sorts (tests check sorting is coalesced)."""

    def row_cells(self, r: ConversationRow, p: Palette) -> tuple[Text, ...]:
        sev_style = p.error if r.severity >= 3 else p.warning if r.severity >= 2 else p.plain
        wait_style = p.error if r.sla_breached else p.plain
        return (
            KeyedText.for_row(r.conversation_id, r.customer_name),
            cell(r.department_name),
            cell(t(f"supervisor.state.{r.state}"), p.warning if r.state == "queued" else p.plain),
            cell(r.assignee_name or t("supervisor.department.unassigned"), p.plain),
            duration_cell(
                r.wait_seconds if r.state == "queued" or r.wait_seconds else None, wait_style
            ),
            Text(
                "●" * min(r.severity, 5) if r.severity else "-",
                style=sev_style,
                no_wrap=True,
                end="",
            ),
        )

    def apply(self, dashboard: Dashboard, dirty: Iterable[str], now: datetime) -> int:
        """Bring the dirty rows up to date; re-sort once if the order may have changed.

        Only a row that is new, or whose sort key no longer sits between its
        neighbours', triggers a re-sort.  Returns the number of rows touched.
        """
        p = self.palette
        moved: list[str] = []
        touched = 0
        was_empty = not self._shown
        for cid in sorted(dirty):
            row = dashboard.conversation_row(cid, now)
            if row is None or not dashboard.matches(cid, self.filter_text):
                if cid in self._shown:
                    self.drop(cid)
                    touched += 1
                continue
            cells = self.row_cells(row, p)
            old = self._shown.get(cid)
            if self.upsert(cid, cells) or (old is not None and not same_cells(old, cells)):
                moved.append(cid)
            touched += 1
        if moved and not self.in_order(dashboard, now, moved):
            self.resort(dashboard, now, keep_cursor=not was_empty)
        return touched

    def in_order(self, dashboard: Dashboard, now: datetime, keys: Iterable[str]) -> bool:
        """Each of ``keys`` sorts between its neighbours (so the table needs no re-sort).

        The other rows did not change, so their order among themselves still holds."""
        key = dashboard.sort_key(self.order, now)
        locations = self._row_locations
        last = self.row_count - 1
        for cid in keys:
            index = locations.get(RowKey(cid))
            if index is None:
                continue
            mine = key(cid)
            if index > 0:
                before = locations.get_key(index - 1)
                if before is not None and before.value is not None and key(before.value) > mine:
                    return False
            if index < last:
                after = locations.get_key(index + 1)
                if after is not None and after.value is not None and mine > key(after.value):
                    return False
        return True

    def refresh_waits(self, dashboard: Dashboard, now: datetime) -> None:
        """Once a second: update the wait column of the rows on screen only."""
        if not self.row_count:
            return
        p = self.palette
        top = max(0, int(self.scroll_y))
        bottom = min(self.row_count, top + max(1, self.size.height))
        ordered = self.ordered_rows
        for index in range(top, bottom):
            key = ordered[index].key.value
            if key is None:
                continue
            row = dashboard.conversation_row(key, now)
            old = self._shown.get(key)
            if row is None or old is None:
                continue
            self.upsert(key, self.row_cells(row, p))

    def resort(self, dashboard: Dashboard, now: datetime, *, keep_cursor: bool = True) -> None:
        """Order rows by ``self.order``; the highlighted conversation keeps the cursor."""
        keep = self.highlighted_key() if keep_cursor else None
        wanted = dashboard.sorted_ids(self.order, now, self._shown)
        # Already in order: a sort would only invalidate the render caches.
        if self.reorder(wanted):
            self.sorts += 1
        elif keep_cursor:
            return
        if keep is not None and keep in self._shown:
            index = self.get_row_index(keep)
            if index != self.cursor_row:  # moving it onto itself repaints its cell
                self.move_cursor(row=index, scroll=False)
        elif self.row_count:
            self.move_cursor(row=0, scroll=False)

    def sort_by(self, order: str, dashboard: Dashboard, now: datetime) -> None:
        """A sort key: the new order from the top (cursor on the first row)."""
        self.order = order
        self.resort(dashboard, now, keep_cursor=False)
        self.scroll_home(animate=False)

    def rebuild(self, dashboard: Dashboard, now: datetime) -> None:
        """Filter changed: drop rows that no longer match, add the ones that now do."""
        wanted = [
            cid for cid in dashboard.conversations if dashboard.matches(cid, self.filter_text)
        ]
        self.sync_keys(wanted)
        self.apply(dashboard, wanted, now)
        self.resort(dashboard, now, keep_cursor=False)

    def visible_order(self) -> list[str]:
        """Row keys top to bottom (tests)."""
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]
