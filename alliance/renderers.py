"""The API's JSON renderer (``DEFAULT_RENDERER_CLASSES``): DRF's output, byte for byte, written
by orjson (a list's page is encoded several times faster than by the standard library). What
orjson does not write itself (dates, lazy translations, decimals) goes through DRF's encoder,
as DRF would write it; anything orjson refuses (an integer beyond 64 bits), and an indented
answer, is left to DRF's renderer. DRF's settings import it while ``rest_framework.views`` loads,
so it must not import views itself."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JSONRenderer(DRFJSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if self.ensure_ascii or not self.compact or self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        encoder = self.encoder_class()
        try:
            out = orjson.dumps(data, default=encoder.default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: U+2028 and U+2029 escaped, so the JSON is also a JavaScript literal.
        return out.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
