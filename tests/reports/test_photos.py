"""Photo checks: content not name, size, corruption, bombs, and metadata stripping."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.reports.photos import MAX_BYTES, PhotoError, process_photo
from tests.images import GPS_IFD, decompression_bomb, gif, jpeg_with_gps, png_with_alpha, webp


def test_test_image_really_has_gps() -> None:
    """Does the test JPEG carry GPS EXIF to begin with (so the stripping test means something)?"""
    exif = Image.open(io.BytesIO(jpeg_with_gps())).getexif()
    assert exif.get_ifd(GPS_IFD)[1] == "N"


def test_exif_gps_is_removed() -> None:
    """Is every trace of EXIF, GPS included, gone from the stored photo and thumbnail?"""
    result = process_photo(io.BytesIO(jpeg_with_gps()), "phone.jpg")
    for data in (result.full, result.thumb):
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG"
        assert "exif" not in image.info
        assert len(image.getexif()) == 0
        assert b"TestCam" not in data
        assert b"Exif" not in data[:200]


def test_large_photo_is_resized_and_thumbnailed() -> None:
    """Is a big photo scaled to 2048 px and given a 400 px thumbnail, keeping its shape?"""
    result = process_photo(io.BytesIO(jpeg_with_gps(size=(4000, 3000))), "big.jpg")
    assert (result.width, result.height) == (2048, 1536)
    assert max(Image.open(io.BytesIO(result.thumb)).size) == 400


@pytest.mark.parametrize("data", [png_with_alpha(), webp()], ids=["png", "webp"])
def test_png_and_webp_are_accepted_and_reencoded(data: bytes) -> None:
    """Are PNG (with transparency) and WebP accepted and stored as JPEG?"""
    result = process_photo(io.BytesIO(data), "photo")
    assert Image.open(io.BytesIO(result.full)).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"hello, this is not a photo", "photo.jpg", "not a photo: choose a JPEG, PNG or WebP"),
        (b"%PDF-1.7 fake", "scan.jpg", "not a photo"),
        (gif(), "anim.jpg", "not a photo"),
        (b"", "empty.jpg", "is empty"),
        (jpeg_with_gps()[:600], "cut.jpg", "damaged"),
        (b"\xff\xd8\xff" + b"\x00" * 100, "junk.jpg", "damaged"),
        (b"\xff\xd8\xff" + b"\x00" * MAX_BYTES, "huge.jpg", "larger than 10 MB"),
        (decompression_bomb(), "bomb.png", "too many pixels"),
    ],
    ids=["text", "pdf", "gif", "empty", "truncated", "junk", "too-large", "bomb"],
)
def test_bad_uploads_are_refused_with_a_reason(data: bytes, name: str, message: str) -> None:
    """Is each kind of bad upload refused, naming the file and saying what to do?"""
    with pytest.raises(PhotoError, match=message) as info:
        process_photo(io.BytesIO(data), name)
    assert name in str(info.value)
