"""The OpenAPI schema documents every status the API answers, with its body: a drf-spectacular
postprocessing hook adds the error answers every operation may give (``ERRORS``) to those the
endpoint documents itself."""

from __future__ import annotations

from typing import Any

DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}
ANY_ERROR = {"$ref": "#/components/schemas/ValidationErrors"}

# status -> (description, body schema, methods it applies to; None = every method)
ERRORS: dict[str, tuple[str, dict, frozenset[str] | None]] = {
    "400": (
        "Malformed request or refused input: field name → messages, `non_field_errors`, or `detail`.",
        ANY_ERROR,
        None,
    ),
    "401": ("Not signed in: no credentials, or a token that is not valid.", DETAIL, None),
    "403": ("The user's role may not do this here (or the CSRF check of a session failed).", DETAIL, None),
    "404": ("No such row among those the user may read, or no such page of results.", DETAIL, None),
    "409": ("The request conflicts with the current state of the records.", ANY_ERROR, None),
    "412": (
        "`If-Match` names an older version of the row: `current` holds what is stored now, and the "
        "`ETag` header its version.",
        {"$ref": "#/components/schemas/StaleVersion"},
        frozenset({"put", "patch"}),
    ),
    "503": ("The database is briefly unavailable: retry after `Retry-After` seconds.", DETAIL, None),
}

COMPONENTS = {
    "ErrorDetail": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
        "additionalProperties": True,
    },
    # DRF's validation errors: an object of messages per field, or a list of messages.
    "ValidationErrors": {
        "oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array", "items": {}}],
    },
    "StaleVersion": {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "current": {"type": "object", "additionalProperties": True}},
        "required": ["detail", "current"],
    },
}
METHODS = {"get", "put", "patch", "post", "delete", "head", "options"}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            # A POST answers 200 (an action) or 201 (a row made): drf-spectacular names one.
            if method == "post" and "200" in responses and "201" not in responses:
                responses["201"] = {**responses["200"], "description": "Created."}
            for status, (description, schema, methods) in ERRORS.items():
                if status in responses or (methods is not None and method not in methods):
                    continue
                responses[status] = {"description": description, "content": {"application/json": {"schema": schema}}}
    return result
