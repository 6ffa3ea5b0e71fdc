"""UI language: Qt translators for HydroTwin's own strings and Qt's standard dialogs.

The language comes from ``--lang``, else the saved setting, else the system locale (Chinese
locales get Simplified Chinese). Translations live in ``hydrotwin/assets/translations`` as
``hydrotwin_<lang>.ts`` (source, edited) and ``.qm`` (compiled by ``make translations``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "assets" / "translations"
LANGUAGES = ("zh_CN", "en")


def choose_language(requested: str | None, saved: str | None) -> str:
    """``requested`` (command line) wins, then ``saved`` (settings), then the system locale."""
    for lang in (requested, saved):
        if lang in LANGUAGES:
            return lang
    return "zh_CN" if QLocale.system().name().startswith("zh") else "en"


def install_translators(app: QCoreApplication, lang: str) -> list[QTranslator]:
    """Load and install translators for ``lang``; returns them (keep a reference)."""
    installed: list[QTranslator] = []
    if lang == "en":
        return installed
    ours = QTranslator(app)
    qm = TRANSLATIONS_DIR / f"hydrotwin_{lang}.qm"
    if ours.load(str(qm)):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        log.error("translation %s could not be loaded; the UI stays in English", qm)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    return installed
