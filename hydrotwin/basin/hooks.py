"""pluggy hook specifications: what a basin plugin adds beyond its manifest.

A plugin registers an object or module with ``@hookimpl`` functions under the entry point group
``hydrotwin.hooks``. The host calls them through :func:`plugin_manager`. Every hook receives the
``basin`` it is asked about and returns ``None`` when it has nothing to say for that basin, so one
plugin never answers for another's basin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pluggy

PROJECT = "hydrotwin"
HOOK_GROUP = "hydrotwin.hooks"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class BasinHookSpec:
    """Hook specifications. Implementations may take any subset of the arguments."""

    @hookspec
    def hydrotwin_data_sources(self, basin: Any) -> Any:
        """Return a list of extra live sources (``hydrotwin.live.source.LiveSource``:
        ``start(sink, status)``, ``stop()``, ``running``, ``name``; optional ``names`` = (zh, en)).
        The app offers each in its Live menu and the session starts it into the open store."""

    @hookspec
    def hydrotwin_plan_templates(self, basin: Any) -> Any:
        """Return a list of dicts describing candidate operation plans to offer."""

    @hookspec
    def hydrotwin_panels(self, basin: Any) -> Any:
        """Return a list of ``(title, factory)`` where ``factory(parent, session) -> QWidget``
        and ``title`` is a ``(zh, en)`` pair (or one string for both languages); the app calls
        it on the GUI thread when the basin opens and docks the widget, which follows the
        :class:`~hydrotwin.fourpre.session.TwinSession` (its clock and events) and removes its
        listeners when destroyed. Only the app imports Qt; the factory does so lazily."""


def local_name(name: str | Sequence[str], lang: str) -> str:
    """A plugin's ``(zh, en)`` name in the UI language ``lang``; a plain string is both."""
    if isinstance(name, str):
        return name
    zh, en = name
    return zh if lang.startswith("zh") else en


def plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the specs added and installed hook plugins loaded and validated."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(BasinHookSpec)
    if load_entry_points:
        pm.load_setuptools_entrypoints(HOOK_GROUP)
    pm.check_pending()
    return pm
