"""Checks JSON values against the schemas of an OpenAPI 3.0 document (shared/specs/zoom/
ZoomMeetingAPISpec.json, Zoom's Meeting API): resolves `$ref`, merges `allOf`, accepts a value that
matches any branch of `oneOf`/`anyOf`, and checks types, formats, enums, required fields, lengths
and bounds. Strict about fields: a member the schema does not declare is a problem unless the schema
allows additional properties or the caller's allow-list documents it (spec_common.Documented).

    doc = OpenAPIDocument(path)
    schema = doc.response_schema("POST", "/users/{userId}/meetings", 201)
    problems = validate(body, schema, resolve=doc.resolve, allow={...})

The same calls check request bodies (`doc.request_schema`), so they serve for what Calendox sends.
"""

import json

from spec_common import (DATE, DATE_TIME_LOOSE, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, child,
                         index, int_string_problem, is_integer, is_number, json_type, pattern)


class OpenAPIDocument:
    """One loaded OpenAPI 3.0 document."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)

    def resolve(self, schema):
        """Follows local `$ref`s ("#/components/schemas/x") until a schema without one."""
        seen = set()
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"cannot resolve $ref {ref!r}")
            seen.add(ref)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
        return schema

    def operation(self, method, path):
        """The operation of a path template as the spec writes it ("/meetings/{meetingId}")."""
        try:
            return self.doc["paths"][path][method.lower()]
        except KeyError:
            raise KeyError(f"the spec has no operation {method} {path}") from None

    def request_schema(self, method, path, media="application/json"):
        body = self.resolve(self.operation(method, path).get("requestBody"))
        if not body:
            raise KeyError(f"{method} {path} takes no request body in the spec")
        return self.resolve(body["content"][media]["schema"])

    def response(self, method, path, status):
        """The response object the spec declares for a status; KeyError when it declares none."""
        responses = self.operation(method, path)["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                return self.resolve(responses[key])
        raise KeyError(f"the spec declares no {status} answer for {method} {path} "
                       f"(only {', '.join(sorted(responses))})")

    def response_schema(self, method, path, status, media="application/json"):
        """The body schema of a declared response, or None when the spec gives it no body."""
        content = self.response(method, path, status).get("content")
        if not content:
            return None
        if media not in content:
            raise KeyError(f"{method} {path} {status} has no {media} body in the spec")
        return self.resolve(content[media].get("schema"))


def _identity(schema):
    return schema


def merged(schema, resolve=_identity):
    """A schema with its `allOf` parts folded in (properties, required, type), other keys kept."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or "allOf" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    props = dict(out.get("properties", {}))
    required = list(out.get("required", []))
    for part in schema["allOf"]:
        part = merged(part, resolve)
        props.update(part.get("properties", {}))
        required += [r for r in part.get("required", []) if r not in required]
        for key in ("type", "additionalProperties", "nullable", "enum", "format", "items"):
            if key in part and key not in out:
                out[key] = part[key]
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def validate(value, schema, path="$", resolve=_identity, allow=None, check_required=True):
    """The problems of value against schema (an empty list when it conforms).

    resolve: follows `$ref` (OpenAPIDocument.resolve). allow: {path pattern: Documented} for fields
    the spec lacks. check_required: False for partial bodies such as a PATCH whose schema marks
    fields required that the method does not need."""
    problems = []
    _check(value, schema, path, resolve, allow or {}, check_required, problems)
    return problems


def _schema_type(schema):
    t = schema.get("type")
    if t is None and ("properties" in schema or "additionalProperties" in schema):
        return "object"
    if t is None and "items" in schema:
        return "array"
    return t


def _check(value, schema, path, resolve, allow, check_required, problems):
    schema = merged(schema, resolve)
    if schema is None or schema == {}:
        return
    if value is None:
        if not schema.get("nullable"):
            problems.append(f"{path}: null where the spec declares "
                            f"{_schema_type(schema) or 'a value'} (not nullable)")
        return
    for key in ("oneOf", "anyOf"):
        if key in schema:
            _check_alternatives(value, schema, key, path, resolve, allow, check_required,
                                problems)
            return
    t = _schema_type(schema)
    if t == "object":
        _check_object(value, schema, path, resolve, allow, check_required, problems)
    elif t == "array":
        if not isinstance(value, list):
            problems.append(f"{path}: expected array, got {json_type(value)}")
            return
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{path}: {len(value)} items, the spec allows {schema['maxItems']}")
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), index(path, i), resolve, allow, check_required,
                   problems)
    elif t is not None:
        _check_scalar(value, schema, t, path, problems)
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of the spec's values {schema['enum']}")


def _check_alternatives(value, schema, key, path, resolve, allow, check_required, problems):
    best = None
    for branch in schema[key]:
        branch = merged(branch, resolve)
        # Keys beside oneOf (a shared description, type or nullable) apply to every branch.
        combined = dict({k: v for k, v in schema.items() if k != key}, **branch)
        found = []
        _check(value, combined, path, resolve, allow, check_required, found)
        if not found:
            return
        if best is None or len(found) < len(best):
            best = found
    problems.append(f"{path}: matches none of the {len(schema[key])} {key} alternatives; "
                    f"the closest fails with:")
    problems.extend("    " + p for p in best or [])


def _check_object(value, schema, path, resolve, allow, check_required, problems):
    if not isinstance(value, dict):
        problems.append(f"{path}: expected object, got {json_type(value)}")
        return
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", False)
    for name, member in value.items():
        p = child(path, name)
        if name in props:
            _check(member, props[name], p, resolve, allow, check_required, problems)
        elif pattern(p) in allow:
            _check(member, allow[pattern(p)].schema, p, resolve, allow, check_required, problems)
        elif extra is True:
            continue
        elif isinstance(extra, dict):
            _check(member, extra, p, resolve, allow, check_required, problems)
        else:
            problems.append(f"{p}: field not defined by the spec (type {json_type(member)})")
    if check_required:
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{child(path, name)}: required by the spec but missing")
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        problems.append(f"{path}: more than {schema['maxProperties']} members")


def _check_scalar(value, schema, t, path, problems):
    fmt = schema.get("format")
    if t == "integer":
        if not is_integer(value):
            problems.append(f"{path}: expected integer{' (' + fmt + ')' if fmt else ''}, "
                            f"got {json_type(value)} {value!r}")
            return
        lo, hi = (INT32_MIN, INT32_MAX) if fmt == "int32" else (INT64_MIN, INT64_MAX)
        if not lo <= value <= hi:
            problems.append(f"{path}: {value} is out of range for {fmt or 'int64'}")
    elif t == "number":
        if not is_number(value):
            problems.append(f"{path}: expected number, got {json_type(value)} {value!r}")
            return
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean, got {json_type(value)} {value!r}")
        return
    elif t == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected string{' (' + fmt + ')' if fmt else ''}, "
                            f"got {json_type(value)} {value!r}")
            return
        if fmt == "int64":
            problems.extend(int_string_problem(path, value, INT64_MIN, INT64_MAX, "an int64"))
        elif fmt == "date-time" and value and not DATE_TIME_LOOSE.fullmatch(value):
            problems.append(f"{path}: {value!r} is not a date-time")
        elif fmt == "date" and value and not DATE.fullmatch(value):
            problems.append(f"{path}: {value!r} is not a date (yyyy-mm-dd)")
        elif fmt == "email" and value and "@" not in value:
            problems.append(f"{path}: {value!r} is not an e-mail address")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{path}: {len(value)} characters, the spec allows "
                            f"{schema['maxLength']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(f"{path}: {len(value)} characters, the spec needs "
                            f"{schema['minLength']}")
        return
    else:
        problems.append(f"{path}: the spec declares unknown type {t!r}")
        return
    if "maximum" in schema and value > schema["maximum"]:
        problems.append(f"{path}: {value} is above the spec's maximum {schema['maximum']}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{path}: {value} is below the spec's minimum {schema['minimum']}")
