"""Keep wide glyphs whole where a widget in front covers edges of widgets behind it.

Textual's compositor cuts every screen line at the edges of *all* widgets on
that line, also those hidden behind another layer, and divides each widget's
strip at those cuts.  A double-width glyph (Hangul, kana, kanji) that straddles
a cut is split into two blanks, so a toast over the pane borders showed
"小林 陽菜" as "小   陽菜" and "상담을" as "상  을" (Textual issue #6357, open).

:func:`install` replaces ``Compositor._render_chops`` (private; this module is
the one place that touches it) with a version that gives a widget's whole strip
to its first chop when that widget is the front-most one on every chop it spans
on that line, leaving the other chops empty (zero width).  Full updates join the
chops of a line, so the line is unchanged except that glyphs stay whole;
partial updates write the strip from the first chop's offset and skip empty
strips, so the same cells are written.  Where another widget is in front of
part of the span, the strip is divided as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from textual._compositor import Compositor  # private: see the module docstring
from textual.geometry import Region
from textual.strip import Strip

__all__ = ["install"]

_EMPTY = Strip([], 0)
_installed = False


def _render_chops(
    self: Any, crop: Region, is_rendered_line: Callable[[int], bool]
) -> Sequence[Mapping[int, Strip]]:
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    intersection = Region.intersection
    renders: Iterable[tuple[Region, Region, list[Strip]]] = self._get_renders(crop)
    for region, clip, strips in renders:
        render_region = intersection(region, clip)
        render_x = render_region.x
        first_cut, last_cut = render_region.column_span
        for y, strip in zip(render_region.line_range, strips, strict=False):
            if not is_rendered_line(y):
                continue
            chops_line = chops[y]
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            inner = final_cuts[:-1]
            if len(inner) > 1 and all(chops_line.get(cut) is None for cut in inner):
                # In front on its whole span: one strip, glyphs whole.
                chops_line[inner[0]] = strip
                for cut in inner[1:]:
                    chops_line[cut] = _EMPTY
                continue
            cut_strips = strip.divide([cut - render_x for cut in final_cuts[1:]])
            for cut, piece in zip(final_cuts, cut_strips, strict=False):
                if chops_line.get(cut) is None:
                    chops_line[cut] = piece
    return cast("Sequence[Mapping[int, Strip]]", chops)


def install() -> None:
    """Patch the compositor once (idempotent)."""
    global _installed
    if _installed:
        return
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]
    _installed = True
