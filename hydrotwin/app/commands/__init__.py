"""One module per ``hydrotwin`` subcommand; see hydrotwin.app.cli."""
