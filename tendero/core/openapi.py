"""The OpenAPI document declares every status an operation can answer.

Routes declare what their own code answers (200, 201, a 404 of theirs...); the
statuses that come from the machinery every operation goes through are added here,
once, from what the operation is: authenticated (401, 403), with parameters or a body
(422), with a JSON body (400 for a body that is not a JSON object, 413 for one over
the upload limit, 415 for another content type), with an id in its path (404), or
taking the `version` that was read (409). All of them answer the error schema.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.openapi.schema import OpenAPISchema

REF_TEMPLATE = "#/components/schemas/{model}"

STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: the body is not a JSON object.",
    401: "Unauthorized: no valid bearer token or signed-in session.",
    403: "Forbidden: you may not do this (or, with a session, the CSRF check failed).",
    404: "Not Found: no such record among those you may see.",
    409: "Conflict: someone changed it since the version you read; see current_version.",
    413: "Content Too Large: the body is over the upload limit.",
    415: "Unsupported Media Type: send the body as application/json.",
    422: "Unprocessable Content: see errors, by field.",
}


def statuses_implied(operation: dict[str, Any], components: dict[str, Any]) -> set[int]:
    """The error statuses an operation of the document can answer whatever its code."""
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    implied: set[int] = set()
    if operation.get("security"):
        implied |= {401, 403}
    if parameters or body:
        implied.add(422)
    if body:
        implied.add(413)
    if "application/json" in (body or {}).get("content", {}):
        implied |= {400, 415}
    if any(p.get("in") == "path" for p in parameters):
        implied.add(404)
    if any(p.get("name") == "version" for p in parameters) or "version" in _body_properties(
        body, components
    ):
        implied.add(409)
    return implied


def declare_implied_statuses(document: dict[str, Any], error_schema: type[Schema]) -> None:
    """Add to every operation of `document` the statuses it can answer that its route
    did not declare, each with `error_schema`."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    name = error_schema.__name__
    if name not in components:
        components[name] = error_schema.model_json_schema(ref_template=REF_TEMPLATE)
    content = {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=name)}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            declared = {str(status) for status in responses}
            for status in sorted(statuses_implied(operation, components)):
                if str(status) not in declared:
                    description = STATUS_DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
                    responses[status] = {"description": description, "content": content}


class DocumentedAPI(NinjaAPI):
    """A NinjaAPI whose document declares the statuses every operation can answer,
    answered with `error_schema`, and whose validation errors say when the value
    refused was text (ninja drops the value: a length limit on an optional text is
    reported as "too_long", as for a list, and would be said in items)."""

    def __init__(self, *args: Any, error_schema: type[Schema], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_schema = error_schema

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        declare_implied_statuses(document, self.error_schema)
        return document

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        error = super().validation_error_from_error_contexts(error_contexts)
        inputs = [
            detail.get("input")
            for context in error_contexts
            for detail in context.pydantic_validation_error.errors(include_url=False)
        ]
        for detail, value in zip(error.errors, inputs, strict=True):
            if isinstance(value, str):
                detail["ctx"] = {**detail.get("ctx", {}), "input_is_text": True}
        return error


def _body_properties(body: dict[str, Any] | None, components: dict[str, Any]) -> set[str]:
    if not body:
        return set()
    names: set[str] = set()
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            schema = components.get(ref.rsplit("/", 1)[-1], {})
        names |= set(schema.get("properties", {}))
    return names
