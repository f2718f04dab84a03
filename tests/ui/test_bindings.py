"""The binding registry: stable unique ids, keymap collisions named, docs complete."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from console.ui.bindings import SPECS, effective_keys, find_collisions, unknown_ids

DOCS = Path(__file__).resolve().parents[2] / "docs" / "keymap.md"


def test_binding_ids_are_unique_and_kebab_case() -> None:
    ids = [spec.id for spec in SPECS]
    assert len(ids) == len(set(ids))
    for binding_id in ids:
        assert binding_id == binding_id.lower() and " " not in binding_id and "_" not in binding_id


def test_default_keys_have_no_collisions() -> None:
    assert find_collisions({}) == []


def test_remap_onto_another_bindings_key_is_reported_naming_both() -> None:
    collisions = find_collisions({"accept-next": "f5"})
    assert [(c.key, {c.first, c.second}) for c in collisions] == [
        ("f5", {"accept-next", "expect-researching"})
    ]
    sentence = collisions[0].sentence()
    assert "accept-next" in sentence and "expect-researching" in sentence


def test_remap_is_normalised_like_textual_does() -> None:
    assert effective_keys({"show-help": "?"})["show-help"] == ["question_mark"]
    # "?" is the default key of show-help, so binding jump to it collides.
    assert find_collisions({"jump": "?"})


def test_bindings_in_panels_that_are_never_focused_together_do_not_collide() -> None:
    # Enter accepts in the queue and opens a past conversation in the sidebar.
    assert not [c for c in find_collisions({}) if c.key == "enter"]


def test_unknown_keymap_ids_are_listed() -> None:
    assert unknown_ids({"acept-next": "f9", "jump": "ctrl+j"}) == ["acept-next"]


def test_docs_list_every_binding_id() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [spec.id for spec in SPECS if f"`{spec.id}`" not in text]
    assert missing == []


def test_every_binding_has_a_label_and_help_in_every_language() -> None:
    from console.core.i18n import load_catalog
    from console.ui.bindings import catalog_keys

    for lang in ("en", "ko", "ja"):
        catalog = load_catalog(lang)
        for spec in SPECS:
            label_key, help_key = catalog_keys(spec)
            assert label_key in catalog, (lang, spec.id)
            assert help_key in catalog, (lang, spec.id)


def test_labels_follow_the_active_language() -> None:
    from console.core import i18n
    from console.ui.bindings import SPEC_BY_ID, help_for, label_for

    previous = i18n.get_language()
    try:
        i18n.set_language("ko")
        assert label_for(SPEC_BY_ID["accept-next"]) == "다음 수락"
        assert label_for(SPEC_BY_ID["focus-chat-3"]) == "상담 3"
        i18n.set_language("en")
        assert help_for(SPEC_BY_ID["focus-chat-2"]) == "Focus chat 2."
    finally:
        i18n.set_language(previous)


def test_composer_and_supervisor_ids_are_in_the_registry() -> None:
    from console.ui.screens.supervisor import SupervisorHelpScreen, SupervisorScreen
    from console.ui.widgets.composer import Composer

    declared = [
        binding.id
        for binding in [
            *Composer.BINDINGS,
            *SupervisorScreen.BINDINGS,
            *SupervisorHelpScreen.BINDINGS,
        ]
        if isinstance(binding, Binding)
    ]
    assert declared and None not in declared
    assert set(declared) <= {spec.id for spec in SPECS}
    # A keymap naming them is accepted.
    assert unknown_ids({"send-reply": "ctrl+s", "sort-by-wait": "f12", "close-help": "q"}) == []


def test_clashes_are_checked_across_screens() -> None:
    # The supervisor's refresh on the app's away key: both active on the supervisor screen.
    collisions = find_collisions({"refresh": "f2"})
    assert [(c.key, {c.first, c.second}) for c in collisions] == [
        ("f2", {"toggle-away", "refresh"})
    ]
    # The composer's send key on an agent-screen key.
    assert [{c.first, c.second} for c in find_collisions({"send-reply": "ctrl+g"})] == [
        {"most-at-risk", "send-reply"}
    ]
    # Supervisor and agent screens are never active together: f5 is free to share.
    assert not [c for c in find_collisions({}) if c.key == "f5"]
    # The supervisor's own help replaces the app's on purpose.
    assert not [c for c in find_collisions({}) if c.key == "question_mark"]
