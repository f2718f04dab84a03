"""Reusable heavy widgets (transcript, composer, canned-reply palette).

Kept empty on purpose: import from the submodules
(``console.ui.widgets.transcript`` ...) so importing one widget never pays for the others.
"""
