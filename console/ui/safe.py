"""Turn untrusted text into ``Content``/``Text`` without ever parsing it as markup.

Textual parses markup in ``Static``, ``Label``, ``notify``, ``OptionList`` and
command-palette prompts: ``[@click=app.quit]`` in a customer's name runs an
action and a stray ``[/]`` raises ``MarkupError``.  Everything that came from
outside (customers, other agents, backend fields, canned-reply titles) goes
through this module on its way to the screen.

The ingest sanitizer (``console.core.sanitize``) already replaced control
characters with visible placeholders.  :func:`neutralize_controls` is a last,
cheap line of defence for text that reached a widget some other way: it maps
every C0/C1 control (except newline), DEL and bidi override one-to-one onto a
visible character, so character offsets (trigger spans, match offsets) stay
valid.  It never removes or inserts characters.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

__all__ = [
    "label_with",
    "neutralize_controls",
    "plain",
    "plain_text",
    "widget_text",
]

_REPLACEMENT = "\ufffd"


def _build_control_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if code == 0x0A:  # newline is structure, not a control
            continue
        # U+2400.. "control pictures": visible, one character each.
        table[code] = chr(0x2400 + code)
    table[0x09] = " "  # a tab's width depends on the column; one space is honest enough
    table[0x7F] = "\u2421"
    for code in range(0x80, 0xA0):
        table[code] = _REPLACEMENT
    # Bidi embeddings/overrides/isolates and marks reorder what follows them.
    for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C):
        table[code] = _REPLACEMENT
    # Line/paragraph separators behave like newlines in some terminals.
    table[0x2028] = "\n"
    table[0x2029] = "\n"
    return table


_CONTROL_TABLE = _build_control_table()


def neutralize_controls(text: str) -> str:
    """Replace control and bidi characters one-to-one with visible ones.

    Offsets are preserved: ``len(neutralize_controls(s)) == len(s)``.
    """
    return text.translate(_CONTROL_TABLE)


def plain(text: str, style: str = "") -> Content:
    """Untrusted text as ``Content``; brackets are shown literally."""
    return (
        Content.styled(neutralize_controls(text), style)
        if style
        else Content(neutralize_controls(text))
    )


def plain_text(text: str, style: str = "") -> Text:
    """Untrusted text as a Rich ``Text`` (for Rich renderables); never parses markup."""
    return Text(neutralize_controls(text), style=style)


def label_with(markup_template: str, **values: object) -> Content:
    """Combine *trusted* markup with untrusted values.

    ``label_with("[b]$name[/b] is typing", name=customer_name)``: the template is
    parsed as markup, each ``$name`` is inserted literally (Textual's template
    variables), so brackets in values never become tags or actions.  String
    values are neutralized; ``Content`` values are inserted as they are.
    """
    safe_values: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, str):
            safe_values[key] = Content(neutralize_controls(value))
        else:
            safe_values[key] = value
    return Content.from_markup(markup_template, **safe_values)


# --------------------------------------------------------------------- UI strings


def widget_text(key: str, **params: object) -> str:
    """A translated UI string (``widgets.*`` keys in ``locales/<lang>/widgets.toml``).

    The result is plain text: render it with :func:`plain` or as a
    :func:`label_with` value, never as markup.
    """
    from console.core.i18n import t  # deferred: catalogs load on first use

    return t(key, **params)
