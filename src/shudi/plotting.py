"""Matplotlib set-up for figures with Chinese labels (the notebooks): use a CJK font that is
installed, found through matplotlib's font manager, so no glyph is drawn as a box and no
"Glyph … missing from font" warning is raised."""

from __future__ import annotations

from matplotlib import font_manager, rcParams

# in order of preference; fonts-wqy-zenhei is what `make browser` installs on Debian
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC")


def use_cjk_font() -> str:
    """Make the first installed CJK font matplotlib's sans-serif font; its name is returned."""
    installed = {f.name: f for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            rcParams["font.family"] = "sans-serif"
            rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
            rcParams["axes.unicode_minus"] = False  # CJK fonts often lack the minus sign
            # WenQuanYi Zen Hei has one weight, 500: asking for "normal" (400) makes matplotlib log
            # "Failed to find font weight normal" for every text drawn
            for key in ("font.weight", "axes.titleweight", "axes.labelweight", "figure.titleweight"):
                rcParams[key] = installed[name].weight
            return name
    raise RuntimeError("no CJK font installed for matplotlib (Debian: apt-get install fonts-wqy-zenhei; or `make browser`)")
