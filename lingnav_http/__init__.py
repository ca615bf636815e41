"""HTTP guards shared by the S1 and S2 servers (no ROS, no model code).

Every request from a robot or from the network goes through the same doors: a body read with a
byte limit enforced while it streams, an image whose pixel count is checked from its header
before anything is decoded, JSON parsed with a nesting limit, a constant-time bearer token, and
one error shape, `{"error": reason, "detail": reason}`, that deployed clients print.

Names are imported lazily, so robot-side code can use `load_token` / `TokenAuth` without
FastAPI or Pillow installed.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "TokenAuth": "auth", "load_token": "auth",
    "read_form": "body", "read_limited": "body",
    "install_docs": "docs",
    "HttpError": "errors", "error_body": "errors",
    "error_response": "responses", "install_error_handlers": "responses",
    "ImageInfo": "images", "check_image_header": "images",
    "json_depth": "jsonguard", "parse_json": "jsonguard",
}
__all__ = ["HttpError", "ImageInfo", "TokenAuth", "check_image_header", "error_body", "error_response",
           "install_docs", "install_error_handlers", "json_depth", "load_token", "parse_json", "read_form",
           "read_limited"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lingnav_http' has no attribute {name!r}")
    return getattr(importlib.import_module(f"lingnav_http.{module}"), name)
