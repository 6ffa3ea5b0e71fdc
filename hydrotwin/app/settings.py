"""Persistent user settings (QSettings in an INI file; ``$HYDROTWIN_SETTINGS_DIR`` for tests)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings


def settings() -> QSettings:
    folder = os.environ.get("HYDROTWIN_SETTINGS_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        return QSettings(os.path.join(folder, "hydrotwin.ini"), QSettings.Format.IniFormat)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "hydrotwin", "hydrotwin"
    )
