"""The Textual front end: a thin layer over memtui.core (see memtui.ui.app.create_app)."""
