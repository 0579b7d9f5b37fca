"""Image files for upload tests, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def jpeg_with_gps(size: tuple[int, int] = (640, 480), colour: str = "steelblue") -> bytes:
    """A JPEG whose EXIF carries a GPS position (52.4075 N, 1.5084 W) and a camera model."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x0110] = "TestCam 3000"  # Model
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (52.0, 24.0, 27.0), 3: "W", 4: (1.0, 30.0, 30.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_with_alpha() -> bytes:
    image = Image.new("RGBA", (300, 200), (200, 30, 30, 128))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), "green").save(out, format="WEBP")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(out, format="GIF")
    return out.getvalue()


def decompression_bomb() -> bytes:
    """A small PNG that would decode to 64 megapixels."""
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG", optimize=True)
    return out.getvalue()
