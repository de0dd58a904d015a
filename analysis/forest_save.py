"""Saving a forest plot: SVG, PNG or PDF by the file's extension, written whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from analysis.errors import InputError, OptionError
from terms.files import atomic_writer

#: File formats of `save_forest`, by extension.
SAVE_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
PNG_DPI = 200
#: Stable SVG ids (same plot, same bytes); TrueType (Type 42) fonts in PDF, since some journals
#: reject the Type 3 fonts matplotlib embeds by default.
_SAVE_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "oligokb-forest", "pdf.fonttype": 42}


# --- Saving ----------------------------------------------------------------------------------


def save_forest(fig_or_ax, path, *, dpi: int = PNG_DPI, text_as_text: bool = False) -> Path:
    """Write the figure to ``path`` as SVG, PNG (``dpi``, default 200) or PDF, by extension.

    The file is written to a temporary file in the same directory and moved into place with
    ``os.replace`` (terms.files.atomic_writer), so readers never see a partial file and a failure leaves none. Uses a tight
    bounding box, so text columns outside a caller's Axes are kept. SVG and PDF carry no date,
    so the same plot gives the same bytes; PDF fonts are embedded as TrueType. SVG text is drawn as glyph
    outlines, the same on every machine; ``text_as_text=True`` writes it as text that the viewer lays out
    with its own fonts (DejaVu Sans, else the first of matplotlib's sans-serif list it has): far fewer bytes,
    for a browser that shows the plot at once (the explorer). Raises
    `OptionError` (a ValueError) for any other extension, before anything is written.
    Returns the path.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OptionError(
            "path",
            str(path),
            "a file name ending in " + ", ".join(SAVE_FORMATS) + " (the format is taken from the extension)",
        )
    fig = fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax
    while (
        not isinstance(fig, Figure) and getattr(fig, "figure", None) is not None and fig.figure is not fig
    ):  # a SubFigure: save its root figure
        fig = fig.figure
    if not isinstance(fig, Figure):
        raise OptionError("fig_or_ax", fig_or_ax, "a matplotlib Figure or Axes")
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: directory {path.parent} does not exist")
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}, "png": {}}[fmt]
    rc = {**_SAVE_RC, "svg.fonttype": "none" if text_as_text else "path"}
    with atomic_writer(path) as fh, rc_context(rc):
        fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.1, metadata=metadata, facecolor="white")
    return path
