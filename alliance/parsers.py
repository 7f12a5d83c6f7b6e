"""The API's JSON parser (``DEFAULT_PARSER_CLASSES``). DRF's settings import it while
``rest_framework.views`` loads, so it must not import views itself."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# JSON nested deeper than this is refused before it is parsed: Python's decoder would recurse
# until a RecursionError (a 500) on a body of a few kilobytes of "[[[[".
MAX_JSON_DEPTH = 32
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        mark = match.group()
        if mark in "[{":
            depth += 1
            if depth > limit:
                return True
        elif mark in "]}":
            depth -= 1
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) bodies nested deeper than ``MAX_JSON_DEPTH``."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except (UnicodeDecodeError, LookupError) as exc:
            message = _("JSON parse error - the body is not valid %(encoding)s.") % {"encoding": encoding}
            raise exceptions.ParseError(message) from exc
        if json_depth_exceeds(text):
            raise exceptions.ParseError(
                _("JSON parse error - nested deeper than %(depth)d levels.") % {"depth": MAX_JSON_DEPTH}
            )
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(_("JSON parse error - %(detail)s") % {"detail": exc}) from exc
