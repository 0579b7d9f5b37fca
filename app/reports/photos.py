"""Photo uploads: checked by content, re-encoded, stripped of metadata, thumbnailed.

Nothing the browser sends is stored as sent. Pillow decodes the image fully (which
catches corrupt and truncated files), and a fresh JPEG is written from the pixels alone,
so EXIF (GPS included), XMP and ICC data never reach the disk.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 3
# A 40-megapixel image is about 160 MB in memory; anything bigger is refused as a likely bomb.
MAX_PIXELS = 40_000_000
FULL_SIZE = 2048
THUMB_SIZE = 400
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


class PhotoError(ValueError):
    """The upload is not a photo we accept; ``str(err)`` says why and what to do."""


@dataclass(frozen=True)
class ProcessedPhoto:
    full: bytes
    thumb: bytes
    width: int
    height: int


def _looks_like_image(head: bytes) -> bool:
    return head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _encode(image: Image.Image, box: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((box, box), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), copy.width, copy.height


def process_photo(stream: IO[bytes], filename: str) -> ProcessedPhoto:
    """Check and re-encode one uploaded photo.

    Raises PhotoError if it is empty, over 10 MB, not a JPEG, PNG or WebP by its content
    (whatever its name), corrupt, or so large in pixels that it could be a decompression bomb.
    """
    label = filename or "The photo"
    image: Image.Image
    data = stream.read(MAX_BYTES + 1)
    if not data:
        raise PhotoError(f"{label} is empty: choose another photo")
    if len(data) > MAX_BYTES:
        raise PhotoError(f"{label} is larger than 10 MB: choose a smaller photo")
    if not _looks_like_image(data[:12]):
        raise PhotoError(f"{label} is not a photo: choose a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise PhotoError(f"{label} is not a photo: choose a JPEG, PNG or WebP image")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(f"{label} has too many pixels (over 40 megapixels): choose a smaller photo")
            image.load()
            image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(f"{label} has too many pixels (over 40 megapixels): choose a smaller photo") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, PhotoError):
            raise
        raise PhotoError(f"{label} is damaged and cannot be opened: choose another photo") from None
    if image.mode in {"RGBA", "LA", "P", "PA"}:
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    else:
        image = image.convert("RGB")
    full, width, height = _encode(image, FULL_SIZE)
    thumb, _, _ = _encode(image, THUMB_SIZE)
    return ProcessedPhoto(full=full, thumb=thumb, width=width, height=height)


def new_photo_id() -> str:
    return secrets.token_hex(16)


def photo_path(upload_dir: Path, photo_id: str, *, thumb: bool = False) -> Path:
    """Where a photo's file lives; ids are hex tokens, so this cannot escape ``upload_dir``."""
    if not (len(photo_id) == 32 and all(c in "0123456789abcdef" for c in photo_id)):
        raise ValueError("not a photo id")
    return upload_dir / photo_id[:2] / f"{photo_id}{'.thumb' if thumb else ''}.jpg"


def save_files(upload_dir: Path, photo_id: str, photo: ProcessedPhoto) -> None:
    """Write a processed photo and its thumbnail. Raises OSError if the disk refuses."""
    path = photo_path(upload_dir, photo_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(photo.full)
    photo_path(upload_dir, photo_id, thumb=True).write_bytes(photo.thumb)
