"""agent-console: a terminal console for live-chat support teams.

The package root stays light: it never imports the UI, so headless parts
(server, simulator, backends) start without loading Textual.
"""

__version__ = "0.1.0"
