"""Finding a font with Chinese glyphs: VTK's built-in fonts have none (anchors/rendering.md)."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FONT_ENV = "HYDROTWIN_CJK_FONT"

# Most specific first: Debian/Ubuntu packages, then macOS and Windows system fonts.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
_PATTERNS = ("wqy*", "*CJK*", "DroidSansFallback*", "*msyh*", "*simhei*", "*PingFang*")
_SEARCH_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


@functools.cache
def find_cjk_font() -> str | None:
    """Path of a font file that has Chinese glyphs, or None (labels then fall back to English).

    ``$HYDROTWIN_CJK_FONT`` wins; then well-known paths; then a shallow search of font folders.
    """
    env = os.environ.get(FONT_ENV)
    if env:
        if Path(env).is_file():
            return env
        log.warning("%s=%s is not a file; searching the usual places", FONT_ENV, env)
    for c in CANDIDATES:
        if Path(c).is_file():
            return c
    for d in _SEARCH_DIRS:
        base = Path(d).expanduser()
        if not base.is_dir():
            continue
        for pat in _PATTERNS:
            for hit in sorted(base.rglob(pat)):
                if hit.suffix.lower() in (".ttf", ".ttc", ".otf"):
                    return str(hit)
    log.warning(
        "no font with Chinese glyphs found (install fonts-wqy-microhei or set %s)", FONT_ENV
    )
    return None


def use_cjk_font(*props) -> bool:
    """Point VTK text properties at the CJK font (titles and labels may be Chinese: VTK's own
    fonts have no CJK glyphs); False, and the properties untouched, when there is none."""
    font = find_cjk_font()
    if not font:
        return False
    from vtkmodules.vtkCommonCore import VTK_FONT_FILE  # here: the PDF writer imports this module

    for prop in props:
        prop.SetFontFamily(VTK_FONT_FILE)
        prop.SetFontFile(font)
    return True
