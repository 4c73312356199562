"""A font for the appeal packet that covers Chinese, embedded in the PDF when one is installed.

ReportLab embeds TrueType fonts (a subset of the glyphs used). Debian's `fonts-wqy-zenhei`
ships one with TrueType outlines (Noto Sans CJK's are CFF, which ReportLab cannot embed).
Without it (a machine where nobody installed the package), the packet names Adobe's STSong-Light
CID font instead: it needs no file and PDF readers supply it, but it is not embedded.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

CJK_FONT = "DefectDeskCJK"
FALLBACK_CID_FONT = "STSong-Light"
# Looked for in order; DEFECTDESK_CJK_FONT names another TrueType file (or .ttc, face 0).
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


def cjk_font_file() -> Path | None:
    """The TrueType file that the packet embeds for Chinese text, or None when none is installed."""
    named = os.environ.get("DEFECTDESK_CJK_FONT", "").strip()
    for candidate in (named, *CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, bool]:
    """The registered font name for Chinese text, and whether it is embedded in the PDF."""
    path = cjk_font_file()
    if path is not None:
        try:
            pdfmetrics.registerFont(TTFont(CJK_FONT, str(path), subfontIndex=0))
            return CJK_FONT, True
        except Exception:  # an unreadable font file falls back to the CID font, said in the log
            log.warning("cannot embed the font %s; packets name STSong-Light", path, exc_info=True)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return FALLBACK_CID_FONT, False
