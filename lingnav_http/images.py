"""Image uploads checked from their header before anything is decoded.

A 730 KB PNG can declare 16000 x 16000 pixels and cost gigabytes once decoded (a decompression
bomb). Pillow's `Image.open` is lazy: it reads the header and gives format and size without
decoding pixels, so the pixel budget is enforced first and the real decode (OpenCV) comes after.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from lingnav_http.errors import HttpError

ALLOWED_FORMATS = ("JPEG", "PNG")


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    mode: str


def check_image_header(data: bytes, max_pixels: int, allowed: tuple[str, ...] = ALLOWED_FORMATS,
                       what: str = "image") -> ImageInfo:
    """Format and size from the header; 400 when it is no allowed image, 413 when it is too big."""
    if not data:
        raise HttpError(400, f"{what} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                info = ImageInfo(str(img.format or ""), int(img.size[0]), int(img.size[1]), str(img.mode))
    except Image.DecompressionBombError as err:
        raise HttpError(413, f"{what} declares more pixels than the limit of {max_pixels}") from err
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise HttpError(400, f"{what} is not a readable {' or '.join(allowed)} file") from err
    if info.format not in allowed:
        raise HttpError(400, f"{what} is {info.format or 'unknown'}, expected {' or '.join(allowed)}")
    if info.width < 1 or info.height < 1:
        raise HttpError(400, f"{what} has no pixels")
    if info.width * info.height > max_pixels:
        raise HttpError(413, f"{what} is {info.width}x{info.height} = {info.width * info.height} pixels, "
                             f"more than the limit of {max_pixels}")
    return info
