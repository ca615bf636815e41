"""HTTP guards shared by the S1 and S2 servers (no ROS, no model code).

Every request from a robot or from the network goes through the same doors: a body read with a
byte limit enforced while it streams, an image whose pixel count is checked from its header
before anything is decoded, JSON parsed with a nesting limit, a constant-time bearer token, and
one error shape, `{"error": reason, "detail": reason}`, that field clients print.
"""
from lingnav_http.auth import TokenAuth, load_token
from lingnav_http.body import read_form, read_limited
from lingnav_http.docs import install_docs
from lingnav_http.errors import HttpError, error_response, install_error_handlers
from lingnav_http.images import ImageInfo, check_image_header
from lingnav_http.jsonguard import json_depth, parse_json

__all__ = ["HttpError", "ImageInfo", "TokenAuth", "check_image_header", "error_response", "install_docs",
           "install_error_handlers", "json_depth", "load_token", "parse_json", "read_form", "read_limited"]
