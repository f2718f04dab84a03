"""The binding registry: stable unique ids, keymap collisions named, docs complete."""

from __future__ import annotations

from pathlib import Path

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

    for lang in ("en", "ko", "ja"):
        catalog = load_catalog(lang)
        for spec in SPECS:
            key = "focus-chat" if spec.id.startswith("focus-chat-") else spec.id
            assert f"workspace.binding.{key}" in catalog, (lang, spec.id)
            assert f"workspace.binding_help.{key}" in catalog, (lang, spec.id)


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
