"""Image sizes and smaller copies, made from the files: the only module that imports Pillow.

An ``<img>`` with its width and height lets the browser reserve the space before the file
arrives (no layout shift). SVG: the root element's ``width``/``height`` in pixels, else its
``viewBox``. PNG, JPEG, WebP, GIF, AVIF…: the header, through Pillow (the pixels are never
decoded). Anything unreadable has no size (the page simply leaves the attributes out).

A PNG, JPEG or WebP wider than a step of SRCSET_WIDTHS also gets a copy at each narrower
step (``a.jpg`` -> ``a.480w.jpg``…), for the lead image's ``srcset``: phones load a small file.
"""

from __future__ import annotations

import io
import re

SRCSET_WIDTHS = (480, 960, 1600)
RESIZABLE = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
RASTER = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif", ".bmp", ".tif", ".tiff")
IMAGES = RASTER + (".svg",)
_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.I)
_ATTR = re.compile(rb"""\b(width|height|viewBox)\s*=\s*["']([^"']*)["']""", re.I)
_PIXELS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$")


def is_image(path: str) -> bool:
    return path.lower().endswith(IMAGES)


def image_size(path: str) -> tuple[int, int] | None:
    """(width, height) in CSS pixels of the image file at ``path``, or None."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 16) if path.lower().endswith(".svg") else fh.read()
    except OSError:
        return None
    return svg_size(data) if path.lower().endswith(".svg") else raster_size(data)


def svg_size(data: bytes) -> tuple[int, int] | None:
    tag = _SVG_TAG.search(data)
    if tag is None:
        return None
    attrs = {k.decode().lower(): v.decode("utf-8", "replace") for k, v in _ATTR.findall(tag.group(0))}
    w, h = _PIXELS.match(attrs.get("width", "")), _PIXELS.match(attrs.get("height", ""))
    if w and h:
        size = (round(float(w.group(1))), round(float(h.group(1))))
    else:
        parts = attrs.get("viewbox", "").replace(",", " ").split()
        try:
            size = (round(float(parts[2])), round(float(parts[3]))) if len(parts) == 4 else (0, 0)
        except ValueError:
            return None
    return size if size[0] > 0 and size[1] > 0 else None


def raster_size(data: bytes) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:  # reads the header only
            w, h = im.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return (w, h) if w > 0 and h > 0 else None


def variants(path: str, out_path: str) -> tuple[tuple[str, int, bytes], ...]:
    """(output path, width, bytes) of each smaller copy of the image (none for SVG and for
    images no wider than the smallest step). The same file gives the same bytes."""
    ext = "." + out_path.rsplit(".", 1)[-1].lower() if "." in out_path else ""
    fmt = RESIZABLE.get(ext)
    if fmt is None:
        return ()
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            out = []
            for width in (w for w in SRCSET_WIDTHS if w < im.width):
                height = max(1, round(im.height * width / im.width))
                small = im.resize((width, height), Image.Resampling.LANCZOS)
                if fmt == "JPEG" and small.mode not in ("RGB", "L"):
                    small = small.convert("RGB")
                buf = io.BytesIO()
                small.save(buf, fmt, **({"quality": 82} if fmt in ("JPEG", "WEBP") else {}))
                out.append((f"{out_path[:-len(ext)]}.{width}w{ext}", width, buf.getvalue()))
    except (OSError, ValueError, Image.DecompressionBombError):
        return ()
    return tuple(out)


def read_image(path: str, out_path: str) -> tuple[tuple[int, int] | None, tuple[tuple[str, int, bytes], ...]]:
    """An image's size and its smaller copies (the build's image stage)."""
    size = image_size(path)
    return size, (variants(path, out_path) if size is not None else ())
