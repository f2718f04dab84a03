"""Screens: the agent workspace, help, jump overlay (supervisor lives beside them)."""
