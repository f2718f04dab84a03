"""Benchmark: TranscriptView vs Textual's RichLog with 50,000 chat messages.

Prints one JSON object.  Both widgets run headless (``App.run_test``) in the
same process on the same generated messages (seeded mix of English, Korean
and Japanese, 3-40 words, some internal notes and attachments):

Every figure comes as wall time (``*_ms``) and CPU time of this process
(``*_cpu_ms``; steadier when other work shares the machine); per-step figures
as mean and median over ``--steps`` steps.

* ``open_ms``: from starting the app to the first frame being painted with
  all messages loaded (RichLog renders every message at write time;
  TranscriptView wraps only what is near the viewport).
* ``scroll_line_ms`` / ``scroll_page_ms``: mean time of one scroll step
  (one line / one page up from the bottom) including the repaint.
* ``render_page_ms``: widget-only cost: scroll a page and build every
  visible row with ``render_line`` (no compositor).
* ``append_ms``: mean time to add one message at the bottom and repaint
  (what a new message costs while the agent is typing).
* ``scroll_back`` (TranscriptView only): open with the newest page of 50, then
  go to the top and ``prepend_items`` the next older page, repainting each
  time, until all ``--messages`` are loaded; the same for half as many.
  ``ratio_2n_over_n`` is about 2 when a prepend costs O(page) and about 4
  when it costs O(transcript) (``_prepend_only``: the ``prepend_items`` calls
  alone, without the repaint that dominates each step); ``last_over_first_page`` compares the mean
  cost of the last and first tenth of the pages.

Each end-to-end step waits until the screen has processed every pending
repaint (``Pilot._wait_for_screen``), so figures include Textual's compositor,
which is the same for both widgets.  Run: ``.venv/bin/python bench/transcript.py``
(``--messages N`` and ``--steps N`` to change the workload).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import textual
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import RichLog

from console.ui.widgets.transcript import TranscriptAttachment, TranscriptItem, TranscriptView

SIZE = (100, 40)

_WORDS = {
    "en": "hello there I need help with my order it has not arrived yet could you please check the status thanks".split(),
    "ko": "안녕하세요 주문 배송 확인 부탁드립니다 감사합니다 아직 도착하지 않았어요 환불".split(),
    "ja": "こんにちは 注文が まだ 届いていません 確認して いただけますか ありがとう 返金".split(),
}


def make_messages(count: int, seed: int = 42) -> list[TranscriptItem]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for i in range(count):
        lang = rng.choice(["en", "en", "ko", "ja"])
        words = _WORDS[lang]
        body = " ".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
        customer = i % 2 == 1
        items.append(
            TranscriptItem(
                id=f"m{i}",
                author="Customer" if customer else "Agent Kim",
                author_kind="customer" if customer else "agent",
                body=body,
                created_at=start + timedelta(seconds=30 * i),
                internal=(not customer and i % 17 == 0),
                delivery=None if customer else "sent",
                attachments=(TranscriptAttachment("photo.jpg", 123_456),) if i % 23 == 0 else (),
            )
        )
    return items


def richlog_text(item: TranscriptItem) -> Text:
    """The same information RichLog shows per message (header, body, files)."""
    text = Text()
    text.append(item.author, style="bold")
    text.append("  " + item.created_at.strftime("%H:%M"), style="dim")
    if item.delivery:
        text.append("  ✓")
    text.append("\n  " + item.body)
    for attachment in item.attachments:
        text.append(f"\n  📎 {attachment.filename}")
    text.append("\n")
    return text


class TranscriptBench(App[None]):
    def __init__(self, items: list[TranscriptItem]) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        yield TranscriptView(self.items, tz=UTC)


class RichLogBench(App[None]):
    def __init__(self, items: list[TranscriptItem]) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        yield RichLog(wrap=True, markup=False, highlight=False, auto_scroll=True)

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        for item in self.items:
            log.write(richlog_text(item))


class Steps:
    """Per-step wall and CPU times; reports mean and median (the median shrugs off
    spikes from other work on a shared machine)."""

    def __init__(self) -> None:
        gc.collect()  # don't bill one widget for the other's garbage
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._start = (0.0, 0.0)

    def start(self) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        self.wall.append((time.perf_counter() - self._start[0]) * 1000)
        self.cpu.append((time.process_time() - self._start[1]) * 1000)

    def summary(self) -> dict[str, float]:
        return {
            "mean_ms": round(statistics.fmean(self.wall), 3),
            "median_ms": round(statistics.median(self.wall), 3),
            "mean_cpu_ms": round(statistics.fmean(self.cpu), 3),
            "median_cpu_ms": round(statistics.median(self.cpu), 3),
        }


async def measure(
    app_class: type[App[None]], items: list[TranscriptItem], steps: int
) -> dict[str, Any]:
    extra = make_messages(steps, seed=7)
    app = app_class(items)
    app.animation_level = "none"
    results: dict[str, Any] = {}

    opening = Steps()
    opening.start()
    async with app.run_test(size=SIZE) as pilot:
        # Private, but exactly "every pending repaint has been done" (Pilot uses it).
        await pilot._wait_for_screen()
        opening.stop()
        results["open_ms"] = round(opening.wall[0], 1)
        results["open_cpu_ms"] = round(opening.cpu[0], 1)
        widget: TranscriptView | RichLog = app.query_one(
            TranscriptView if app_class is TranscriptBench else RichLog
        )
        results["virtual_lines"] = widget.virtual_size.height
        page = widget.scrollable_content_region.height

        async def scroll_steps(delta: int) -> dict[str, float]:
            timing = Steps()
            for _ in range(steps):
                timing.start()
                widget.scroll_to(y=widget.scroll_y - delta, animate=False, immediate=True)
                await pilot._wait_for_screen()
                timing.stop()
            return timing.summary()

        results["scroll_line"] = await scroll_steps(1)
        results["scroll_page"] = await scroll_steps(page)

        # Widget-only cost: move by a page and build every visible row directly.
        timing = Steps()
        for _ in range(steps):
            timing.start()
            widget.scroll_to(y=widget.scroll_y - page, animate=False, immediate=True)
            for y in range(page):
                widget.render_line(y)
            timing.stop()
        results["render_page"] = timing.summary()

        widget.scroll_end(animate=False, immediate=True)
        await pilot._wait_for_screen()
        timing = Steps()
        for i, item in enumerate(extra):
            timing.start()
            if isinstance(widget, TranscriptView):
                widget.append(replace(item, id=f"extra{i}"))
            else:
                widget.write(richlog_text(item))
            await pilot._wait_for_screen()
            timing.stop()
        results["append"] = timing.summary()
    return results


async def scroll_back_once(items: list[TranscriptItem], page: int = 50) -> dict[str, float]:
    """Load ``items`` from the newest page to the oldest, page by page, at the top."""
    app = TranscriptBench(items[-page:])
    app.animation_level = "none"
    pages: list[float] = []
    prepend_cpu = 0.0
    gc.collect()
    async with app.run_test(size=SIZE) as pilot:
        await pilot._wait_for_screen()
        widget = app.query_one(TranscriptView)
        wall, cpu = time.perf_counter(), time.process_time()
        for end in range(len(items) - page, 0, -page):
            step = time.perf_counter()
            widget.scroll_home(animate=False, immediate=True)
            call = time.process_time()
            widget.prepend_items(items[max(0, end - page) : end], has_older=end > page)
            prepend_cpu += time.process_time() - call
            await pilot._wait_for_screen()
            pages.append((time.perf_counter() - step) * 1000)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert widget.item_count == len(items)
    tenth = max(1, len(pages) // 10)
    return {
        "messages": len(items),
        "pages": len(pages),
        "total_ms": round(wall * 1000, 1),
        "total_cpu_ms": round(cpu * 1000, 1),
        "prepend_items_cpu_ms": round(prepend_cpu * 1000, 1),
        "first_tenth_page_ms": round(statistics.fmean(pages[:tenth]), 3),
        "last_tenth_page_ms": round(statistics.fmean(pages[-tenth:]), 3),
    }


async def scroll_back(items: list[TranscriptItem]) -> dict[str, Any]:
    half = await scroll_back_once(items[len(items) // 2 :])
    full = await scroll_back_once(items)
    return {
        "half": half,
        "full": full,
        "ratio_2n_over_n": round(full["total_ms"] / half["total_ms"], 2),
        "ratio_2n_over_n_cpu": round(full["total_cpu_ms"] / half["total_cpu_ms"], 2),
        "ratio_2n_over_n_prepend_only": round(
            full["prepend_items_cpu_ms"] / half["prepend_items_cpu_ms"], 2
        ),
        "last_over_first_page": round(full["last_tenth_page_ms"] / full["first_tenth_page_ms"], 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument(
        "--scroll-back-only", action="store_true", help="only the page-by-page scroll-back"
    )
    args = parser.parse_args()
    items = make_messages(args.messages)
    if args.scroll_back_only:
        print(json.dumps({"benchmark": "transcript", "scroll_back": await scroll_back(items)}))
        return
    back = await scroll_back(items)
    ours = await measure(TranscriptBench, items, args.steps)
    richlog = await measure(RichLogBench, items, args.steps)

    ratios: dict[str, float | None] = {
        "open_ms": round(richlog["open_ms"] / ours["open_ms"], 1),
        "open_cpu_ms": round(richlog["open_cpu_ms"] / ours["open_cpu_ms"], 1),
    }
    for phase in ("scroll_line", "scroll_page", "render_page", "append"):
        for key in ("mean_ms", "median_ms", "mean_cpu_ms", "median_cpu_ms"):
            mine = ours[phase][key]
            ratios[f"{phase}.{key}"] = round(richlog[phase][key] / mine, 2) if mine else None

    print(
        json.dumps(
            {
                "benchmark": "transcript",
                "messages": args.messages,
                "steps": args.steps,
                "terminal": list(SIZE),
                "transcript_view": ours,
                "rich_log": richlog,
                "richlog_over_transcript": ratios,
                "scroll_back": back,
                "python": platform.python_version(),
                "textual": textual.__version__,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
