"""Simulator plans: deterministic per seed, realistic mix, real files (no server needed)."""

from __future__ import annotations

import struct
import zlib

from console.server.seed_data import DEMO_CUSTOMERS, DEMO_DEPARTMENTS
from console.sim import plan_customers
from console.sim.plan import tiny_png
from console.sim.scripts import SCENARIOS, TRIGGER_PHRASES, looks_frustrated


def test_same_seed_gives_the_same_plans_and_another_seed_does_not() -> None:
    assert plan_customers(7, 30) == plan_customers(7, 30)
    assert plan_customers(7, 30) != plan_customers(8, 30)


def test_plan_of_a_customer_does_not_depend_on_how_many_are_planned() -> None:
    assert plan_customers(3, 5) == plan_customers(3, 40)[:5]


def test_a_hundred_customers_cover_every_behaviour() -> None:
    plans = plan_customers(1, 100)
    assert {p.lang for p in plans} == {"en", "ko", "ja"}
    assert any(p.frustrated for p in plans) and any(not p.frustrated for p in plans)
    assert any(p.attachment for p in plans)
    assert any(p.leaves_if_ignored for p in plans)
    assert any(p.rating is not None for p in plans)
    assert any(p.transcript for p in plans)
    arrivals = [p.arrival_seconds for p in plans]
    assert arrivals == sorted(arrivals) and arrivals[-1] > 0
    assert len({p.email for p in plans}) == len(plans)


def test_frustrated_customers_say_trigger_statements_in_their_language() -> None:
    for plan in plan_customers(2, 60):
        angry_lines = [line for line in plan.lines if looks_frustrated(line)]
        if plan.frustrated:
            assert angry_lines, plan
            joined = " ".join(plan.lines + plan.nudges)
            assert any(p.lower() in joined.lower() for p in TRIGGER_PHRASES[plan.lang]) or any(
                line.isupper() for line in plan.lines
            )
        else:
            assert not any(looks_frustrated(n) for n in plan.nudges)


def test_looks_frustrated_catches_caps_and_cjk_triggers_but_not_calm_text() -> None:
    assert looks_frustrated("I WANT MY MONEY BACK NOW")
    assert looks_frustrated("정말 짜증나네요")
    assert looks_frustrated("もう解約したい")
    assert not looks_frustrated("Thanks, that worked!")
    assert not looks_frustrated("INV-20931")


def test_scenarios_route_to_demo_departments_and_customers_exist_in_every_language() -> None:
    dept_ids = {d["id"] for d in DEMO_DEPARTMENTS}
    assert {s.department for s in SCENARIOS} <= dept_ids
    assert {c["lang"] for c in DEMO_CUSTOMERS} == {"en", "ko", "ja"}
    assert {s.lang for s in SCENARIOS} == {"en", "ko", "ja"}


def test_generated_png_is_a_valid_image() -> None:
    data = tiny_png((10, 20, 30), size=4)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    _length, tag = struct.unpack(">I4s", data[8:16])
    assert tag == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (4, 4)
    idat_len = struct.unpack(">I", data[33:37])[0]
    raw = zlib.decompress(data[41 : 41 + idat_len])
    assert raw[:4] == b"\x00\x0a\x14\x1e" and len(raw) == 4 * (1 + 3 * 4)


def test_every_angry_line_trips_the_consoles_trigger_detector() -> None:
    """The simulator's frustrated customers must light up the console (core.triggers)."""
    from console.core.triggers import detect
    from console.sim.scripts import ANGRY_NUDGES

    angry = [line for s in SCENARIOS for line in s.frustrated]
    angry += [line for lines in ANGRY_NUDGES.values() for line in lines]
    missed = [line for line in angry if detect(line).severity == 0]
    assert missed == []
