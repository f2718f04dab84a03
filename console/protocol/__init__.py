"""Wire models and limits of the native protocol (no I/O, no UI)."""
