"""One registry of every user-facing key binding, by stable id.

Agents work over SSH and tmux, where terminals and multiplexers eat keys; any
binding must be rebindable from the config ``keymap`` (id → keys) without a
release.  Textual applies a keymap per node (``App.set_keymap``), but it only
reports a clash when a clashing node is in the focus chain at key time, i.e.
possibly never.  So this module owns the list of specs, builds the ``Binding``
objects each screen declares, and checks the whole keymap for collisions once
at start (:func:`find_collisions`), naming both ids.

Key choices (measured with Textual 8.2.8's xterm parser):

* ``alt+1`` arrives from xterm-like terminals and tmux as ``ESC 1``, which
  Textual's parser maps to the macOS Option character ``¡``
  (``inverted_exclamation_mark``): a printable key, so while the composer had
  focus the binding was dropped and ``¡™£¢∞§`` were typed into the reply.
  :func:`install_alt_digit_keys` removes those table entries so ``ESC N``
  parses as ``alt+N`` (not printable: the priority pane keys win while
  typing).  The Option characters stay bound too, for terminals that send
  them raw (macOS Terminal without "Option as Meta"), and are shown as the
  character, not their Unicode name (:func:`human_key`).
* ``f6``/``f7`` are select-line/select-all in ``TextArea``; the expectation
  keys are priority bindings so they win while typing.
* ``ctrl+left/right`` are word moves in the composer (``TextArea``), so pane
  cycling uses ``alt+left/right`` (CSI ``1;3D``/``1;3C``, parsed correctly).
* Function keys reach the app through ssh/tmux (``f5`` = ``CSI 15~``) and the
  composer ignores them, so one-key actions (expectations, accept) use them.
* ``shift+f8`` (``CSI 19;2~``) parses as ``shift+f8``, but as ``f20`` with
  ``TEXTUAL_DISABLE_KITTY_KEY`` set or from a VT220-style keyboard (``CSI 34~``),
  so ``retry-failed`` is bound to both.  rxvt and the Linux console send shift+F8
  as F18 (``CSI 32~``), which Textual's extended-key parser turns into a space:
  rebind ``retry-failed`` in the keymap there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import replace as _replace
from typing import Literal

from textual.binding import Binding, BindingsMap, BindingType
from textual.dom import DOMNode
from textual.keys import (
    _normalize_key_list,  # private: the normaliser Textual uses for keymaps
    key_to_character,
)

from console.core import i18n

Scope = Literal[
    "app", "screen", "queue", "sidebar", "composer", "loading", "supervisor", "supervisor-help"
]

SORT_GROUP = Binding.Group("Sort")
"""The supervisor's F5-F8 share one footer entry ("f5 f6 f7 f8 Sort")."""


@dataclass(frozen=True, slots=True)
class BindingSpec:
    """A bindable action: stable ``id``, default ``keys``, where it lives and how it shows."""

    id: str
    keys: str
    action: str
    description: str
    scope: Scope = "screen"
    show: bool = True
    priority: bool = False
    help: str = ""
    group: Binding.Group | None = None
    key_display: str | None = None
    shadows: str = ""
    """Id of an app binding this one replaces on its screen (same keys, no clash)."""
    catalog: str = "workspace"
    """``workspace``: ``workspace.binding[_help].<id>``; ``supervisor``:
    ``supervisor.footer.<id>`` (label) and ``supervisor.binding.<id>`` (help)."""

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.description,
            show=self.show,
            priority=self.priority,
            id=self.id,
            tooltip=self.help,
            group=self.group,
            key_display=self.key_display,
        )


_PANE_CHAR = {
    1: "inverted_exclamation_mark",
    2: "trade_mark_sign",
    3: "pound_sign",
    4: "cent_sign",
    5: "infinity",
    6: "section_sign",
}

_ALT_DIGIT_SEQUENCES = tuple(f"\x1b{digit}" for digit in "0123456789")


def install_alt_digit_keys() -> None:
    """Make ``ESC <digit>`` (Alt+digit in xterm, tmux, ssh) parse as ``alt+<digit>``.

    Textual maps these sequences to macOS Option characters (``ESC 1`` → ``¡``)
    in its private ``ANSI_SEQUENCES_KEYS`` table; without the entries its
    parser takes the generic path, ESC + key → ``alt+key``.  Idempotent.
    """
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS  # private: the parser's table

    for sequence in _ALT_DIGIT_SEQUENCES:
        ANSI_SEQUENCES_KEYS.pop(sequence, None)  # type: ignore[attr-defined]


def human_key(key: str) -> str:
    """``trade_mark_sign`` → ``™``, ``alt+pound_sign`` → ``alt+£``; other names unchanged."""
    *modifiers, name = key.split("+")
    if len(name) > 1 and "_" in name:
        character = key_to_character(name)
        if character is not None and len(character) == 1 and not character.isascii():
            name = character
    return "+".join([*modifiers, name])


SPECS: tuple[BindingSpec, ...] = (
    # ---------------------------------------------------------------- app
    BindingSpec("quit", "ctrl+q", "quit", "Quit", "app", show=False, priority=True),
    BindingSpec(
        "command-palette",
        "ctrl+p",
        "command_palette",
        "Commands",
        "app",
        show=False,
        help="Search every action, canned reply and chat.",
    ),
    BindingSpec(
        "show-help",
        "f1,question_mark",
        "show_help",
        "Help",
        "app",
        help="List every binding with its id and current keys.",
    ),
    BindingSpec(
        "toggle-away",
        "f2",
        "toggle_away",
        "Away",
        "app",
        help="Switch your status between online and away.",
    ),
    BindingSpec(
        "toggle-accepting",
        "f3",
        "toggle_accepting",
        "Accepting",
        "app",
        help="Stop or resume taking new chats; current chats stay open.",
    ),
    # ---------------------------------------------------------------- agent screen
    BindingSpec(
        "maximize-chat",
        "f4",
        "toggle_maximize",
        "Maximize",
        help="Show the focused chat alone; press again to restore the grid.",
    ),
    BindingSpec(
        "expect-researching",
        "f5",
        "expect_researching",
        "Researching",
        priority=True,  # the composer (TextArea) binds f6/f7 to select line/all
        help="Send 'researching, one moment' and start the promise timer.",
    ),
    BindingSpec(
        "expect-colleague",
        "f6",
        "expect_colleague",
        "Colleague",
        priority=True,  # the composer (TextArea) binds f6/f7 to select line/all
        help="Send 'checking with a colleague' and start the promise timer.",
    ),
    BindingSpec(
        "expect-minutes",
        "f7",
        "expect_minutes",
        "~N min",
        priority=True,  # the composer (TextArea) binds f6/f7 to select line/all
        help="Send 'about N minutes' and start the promise timer.",
    ),
    BindingSpec(
        "promise-follow-up",
        "f8",
        "follow_up",
        "Follow up",
        help="Send the follow-up for the promise about to expire in the focused chat.",
    ),
    BindingSpec(
        "retry-failed",
        # shift+F8 is CSI 19;2~ (xterm, VTE, tmux): Textual reads it as shift+f8, or as
        # f20 (the terminfo name) when its kitty-key parsing is off
        # (TEXTUAL_DISABLE_KITTY_KEY) and from VT220-style keyboards (CSI 34~).
        "shift+f8,f20",
        "retry_failed",
        "Retry",
        show=False,
        help="Send the last failed message of the focused chat again (same client id: never twice).",
    ),
    BindingSpec(
        "discard-failed",
        "ctrl+f8",  # CSI 19;5~ (xterm, tmux) and CSI 19^ (rxvt) both parse as ctrl+f8
        "discard_failed",
        "Discard",
        show=False,
        help="Forget the last failed message of the focused chat (it is removed from the outbox).",
    ),
    BindingSpec(
        "accept-next",
        "f9",
        "accept_next",
        "Accept next",
        help="Take the longest-waiting chat from the queue, if you have room.",
    ),
    BindingSpec(
        "close-chat",
        "f10",
        "close_chat",
        "Close",
        show=False,
        help="Close the focused chat (transcript e-mail and satisfaction survey).",
    ),
    BindingSpec(
        "transfer-chat",
        "ctrl+t",
        "transfer_chat",
        "Transfer",
        show=False,
        help="Transfer the focused chat to another agent or department.",
    ),
    BindingSpec(
        "create-follow-up",
        "f11",
        "create_follow_up",
        "Follow-up",
        show=False,
        help="Promise the customer a call, e-mail or chat later; they are told in their language.",
    ),
    BindingSpec(
        "show-follow-ups",
        "f12",
        "show_follow_ups",
        "Due list",
        show=False,
        help="Your follow-ups, earliest due first; missed ones in red.",
    ),
    BindingSpec(
        "open-follow-up-customer",
        "ctrl+b",
        "open_follow_up_customer",
        "Open due customer",
        show=False,
        help="Open the customer of the last follow-up reminder.",
    ),
    BindingSpec(
        "escalate-chat",
        "shift+f10",
        "escalate_chat",
        "Escalate",
        show=False,
        help="Escalate the focused chat with a reason to a senior agent or escalation department.",
    ),
    BindingSpec(
        "open-canned-replies",
        "ctrl+f",
        "canned_replies",
        "Replies",
        help="Search canned replies; also type / or # at the start of the composer.",
    ),
    BindingSpec(
        "most-at-risk",
        "ctrl+g",
        "most_at_risk",
        "At risk",
        help="Focus the chat whose customer waited longest relative to the promise or SLA.",
    ),
    BindingSpec(
        "jump",
        "ctrl+o",
        "jump",
        "Jump",
        help="Label every chat and panel with a key; press it to go there.",
    ),
    BindingSpec("next-chat", "alt+right", "cycle_chat(1)", "Next chat", show=False, priority=True),
    BindingSpec(
        "previous-chat", "alt+left", "cycle_chat(-1)", "Previous chat", show=False, priority=True
    ),
    BindingSpec(
        "move-chat-left",
        "alt+shift+left",
        "move_chat(-1)",
        "Move chat left",
        show=False,
        priority=True,
    ),
    BindingSpec(
        "move-chat-right",
        "alt+shift+right",
        "move_chat(1)",
        "Move chat right",
        show=False,
        priority=True,
    ),
    *(
        BindingSpec(
            f"focus-chat-{n}",
            f"alt+{n},{_PANE_CHAR[n]}",
            f"focus_chat({n})",
            f"Chat {n}",
            show=False,
            priority=True,
        )
        for n in range(1, 7)
    ),
    BindingSpec(
        "toggle-sidebar",
        "ctrl+l",
        "toggle_sidebar",
        "Sidebar",
        show=False,
        help="Show or hide the customer sidebar.",
    ),
    BindingSpec(
        "focus-queue",
        "ctrl+n",
        "focus_queue",
        "Queue",
        show=False,
        help="Move focus to the queue panel.",
    ),
    BindingSpec(
        "add-customer-note",
        "ctrl+r",
        "add_note",
        "Note",
        show=False,
        help="Write a note on the focused chat's customer.",
    ),
    BindingSpec(
        "toggle-note-mode",
        "alt+n",
        "toggle_note_mode",
        "Internal note",
        priority=True,  # alt+n carries the character "n": the composer would type it
        help="Switch the composer between a reply and an internal note "
        "(notes stay in the chat for agents; the customer never sees them).",
    ),
    BindingSpec(
        "search-transcripts",
        "alt+s",
        "search_transcripts",
        "Search",
        show=False,  # help (F1) and the palette list it; the footer keeps the everyday keys
        priority=True,  # alt+s carries the character "s": the composer would type it
        help="Search every transcript on the server (full text, en/ko/ja); Enter opens "
        "the conversation at the hit (read-only if it is not yours).",
    ),
    BindingSpec(
        "save-attachment",
        "alt+a",
        "save_attachment",
        "Files",
        show=False,  # help (F1) and the palette list it; the footer keeps the everyday keys
        priority=True,
        help="List the focused chat's files; Enter saves the chosen one to your downloads "
        "folder under a safe name (never run, never overwriting).",
    ),
    BindingSpec(
        "send-file",
        "alt+u",
        "send_file",
        "Send file",
        show=False,  # help (F1) and the palette list it; the footer keeps the everyday keys
        priority=True,
        help="Send a file to the customer of the focused chat: type its path (Tab completes).",
    ),
    BindingSpec(
        "edit-customer-tags",
        "alt+t",
        "edit_customer_tags",
        "Labels",
        show=False,  # help (F1) and the palette list it; the footer keeps the everyday keys
        priority=True,  # alt+t carries the character "t": the composer would type it
        help="Edit the labels (tags) of the customer shown in the sidebar; Enter saves them.",
    ),
    # ---------------------------------------------------------------- composer
    BindingSpec(
        "send-reply",
        "enter",
        "send",
        "Send",
        "composer",
        priority=True,
        help="Send the reply.",
    ),
    BindingSpec(
        "insert-newline",
        "ctrl+j,alt+enter",
        "insert_newline",
        "New line",
        "composer",
        priority=True,
        key_display="ctrl+j",
        help="Insert a line break (ctrl+j or alt+enter).",
    ),
    # ---------------------------------------------------------------- queue panel
    BindingSpec(
        "accept-selected",
        "enter",
        "accept_selected",
        "Accept",
        "queue",
        help="Accept the highlighted waiting chat.",
    ),
    # ---------------------------------------------------------------- first screen
    BindingSpec(
        "retry-connect",
        "r",
        "retry_connect",
        "Retry",
        "loading",
        help="Try to connect again now (the first connection failed).",
    ),
    # ---------------------------------------------------------------- sidebar
    BindingSpec(
        "open-past-conversation",
        "enter",
        "open_past",
        "Open",
        "sidebar",
        help="Open the highlighted past conversation read-only.",
    ),
    # ---------------------------------------------------------------- supervisor screen
    # Footer order = this order; at 80 columns the footer cuts off the right end,
    # so per-view actions and the key list come before the sort keys and refresh.
    *(
        BindingSpec(binding_id, keys, action, text, "supervisor", catalog="supervisor", **extra)
        for binding_id, keys, action, text, extra in (
            ("show-dashboard", "d", "show_view('dashboard')", "Dashboard", {}),
            ("show-conversations", "c", "show_view('conversations')", "Conversations", {}),
            ("show-watch", "v", "show_view('watch')", "Watch", {}),
            ("drill-down", "o", "drill_down", "Drill down", {}),
            ("show-history", "h", "show_history", "History", {}),
            ("watch-conversation", "w", "watch", "Watch chat", {}),
            ("close-watch", "x", "close_watch", "Close watch", {}),
            ("next-watch", "n", "next_watch", "Next pane", {"show": False}),
            ("filter", "slash", "filter", "Filter", {}),
            ("clear-filter", "escape", "clear_filter", "Clear filter", {"show": False}),
            # f1 too: the app's f1 would open the agent workspace's key list.
            (
                "supervisor-help",
                "question_mark,f1",
                "supervisor_help",
                "Keys",
                {"shadows": "show-help"},
            ),
            ("sort-by-wait", "f5", "sort('wait')", "Sort: wait", {"group": SORT_GROUP}),
            ("sort-by-department", "f6", "sort('department')", "Sort: dept", {"group": SORT_GROUP}),
            ("sort-by-agent", "f7", "sort('agent')", "Sort: agent", {"group": SORT_GROUP}),
            ("sort-by-severity", "f8", "sort('severity')", "Sort: severity", {"group": SORT_GROUP}),
            ("refresh", "r", "refresh", "Refresh", {}),
        )
    ),
    BindingSpec(
        "close-help",
        "escape,question_mark,f1",
        "dismiss",
        "Close",
        "supervisor-help",
        catalog="supervisor",
        shadows="show-help",
    ),
)

SPEC_BY_ID: dict[str, BindingSpec] = {spec.id: spec for spec in SPECS}


def _focus_number(binding_id: str) -> str | None:
    prefix = "focus-chat-"
    return binding_id[len(prefix) :] if binding_id.startswith(prefix) else None


def catalog_keys(spec: BindingSpec) -> tuple[str, str]:
    """The i18n keys of the spec's label and help sentence."""
    if spec.catalog == "supervisor":
        return f"supervisor.footer.{spec.id}", f"supervisor.binding.{spec.id}"
    name = "focus-chat" if _focus_number(spec.id) else spec.id
    return f"workspace.binding.{name}", f"workspace.binding_help.{name}"


def _translated(key: str, spec: BindingSpec, fallback: str) -> str:
    text = i18n.t(key, n=_focus_number(spec.id) or "")
    return fallback if text == key else text


def label_for(spec: BindingSpec) -> str:
    """Short label (footer, palette) in the active language."""
    return _translated(catalog_keys(spec)[0], spec, spec.description)


def help_for(spec: BindingSpec) -> str:
    """One sentence saying what the binding does, in the active language."""
    return _translated(catalog_keys(spec)[1], spec, spec.help or spec.description)


def translate_bindings(node: DOMNode) -> None:
    """Give the node's id'd bindings labels in the active language.

    Textual builds ``BINDINGS`` at import time, before the language is known,
    and copies them per node at construction; this rewrites that per-node copy
    (the private ``_bindings``, touched only here).  Call it in ``__init__``.
    """
    bindings_map: BindingsMap | None = getattr(node, "_bindings", None)
    if bindings_map is None:
        return
    for key, bindings in bindings_map.key_to_bindings.items():
        bindings_map.key_to_bindings[key] = [
            _localized(binding) if binding.id in SPEC_BY_ID and binding.description else binding
            for binding in bindings
        ]


def _localized(binding: Binding) -> Binding:
    spec = SPEC_BY_ID[str(binding.id)]
    group = binding.group
    if group is not None:
        # A group's description is what the footer shows for its keys ("sort-group").
        key = f"{spec.catalog}.footer.{group.description.lower()}-group"
        text = i18n.t(key)
        if text != key:
            group = _replace(group, description=text)
    return _replace(binding, description=label_for(spec), tooltip=help_for(spec), group=group)


def bindings_for(scope: Scope) -> list[BindingType]:
    """The ``BINDINGS`` list for a node of ``scope``."""
    return [spec.binding() for spec in SPECS if spec.scope == scope]


# Scopes active at the same time: a key bound in two of them is a collision.
# Queue/sidebar bindings only fire with focus inside those panels, where the
# app/screen bindings are also active, so they collide with those but not
# with each other.
_CO_ACTIVE: dict[Scope, frozenset[Scope]] = {
    "app": frozenset(
        {
            "app",
            "screen",
            "queue",
            "sidebar",
            "composer",
            "loading",
            "supervisor",
            "supervisor-help",
        }
    ),
    "supervisor": frozenset({"app", "supervisor"}),
    "supervisor-help": frozenset({"app", "supervisor-help"}),  # a modal: the screen is inactive
    "loading": frozenset({"app", "loading"}),
    "screen": frozenset({"app", "screen", "queue", "sidebar", "composer"}),
    "queue": frozenset({"app", "screen", "queue"}),
    "sidebar": frozenset({"app", "screen", "sidebar"}),
    "composer": frozenset({"app", "screen", "composer"}),
}


@dataclass(frozen=True, slots=True)
class Collision:
    key: str
    first: str
    second: str

    def sentence(self) -> str:
        return (
            f"Key '{self.key}' is bound to both '{self.first}' and '{self.second}'; "
            f"only one will run. Change one of them in the [keymap] section of your config."
        )


def normalize_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    return {binding_id: _normalize_key_list(keys) for binding_id, keys in keymap.items()}


def effective_keys(
    keymap: Mapping[str, str], specs: Iterable[BindingSpec] = SPECS
) -> dict[str, list[str]]:
    """Binding id → keys after applying ``keymap`` (normalised like Textual does)."""
    normalized = normalize_keymap(keymap)
    result: dict[str, list[str]] = {}
    for spec in specs:
        keys = normalized.get(spec.id) or _normalize_key_list(spec.keys)
        result[spec.id] = [key.strip() for key in keys.split(",") if key.strip()]
    return result


def find_collisions(
    keymap: Mapping[str, str], extra: Iterable[BindingSpec] = ()
) -> list[Collision]:
    """Every pair of co-active bindings that share a key once ``keymap`` is applied."""
    specs = [*SPECS, *extra]
    scope_of = {spec.id: spec.scope for spec in specs}
    shadows = {spec.id: spec.shadows for spec in specs}
    by_key: dict[str, list[str]] = defaultdict(list)
    for binding_id, keys in effective_keys(keymap, specs).items():
        for key in keys:
            by_key[key].append(binding_id)
    collisions: list[Collision] = []
    for key, ids in by_key.items():
        for i, first in enumerate(ids):
            for second in ids[i + 1 :]:
                if shadows[first] == second or shadows[second] == first:
                    continue  # a screen's own binding replacing the app's on purpose
                if scope_of[second] in _CO_ACTIVE[scope_of[first]]:
                    collisions.append(Collision(key, first, second))
    return collisions


def unknown_ids(keymap: Mapping[str, str], extra: Iterable[str] = ()) -> list[str]:
    """Keymap entries naming no binding (typos)."""
    known = set(SPEC_BY_ID) | set(extra)
    return sorted(binding_id for binding_id in keymap if binding_id not in known)
