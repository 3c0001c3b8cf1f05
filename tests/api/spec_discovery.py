"""Checks JSON values against the schemas of a Google API Discovery document (shared/specs/google/
calendar.v3.json, Calendar API v3).

Discovery conventions: schemas are named and referenced with `{"$ref": "Event"}`; `format` "int64"
and "uint64" values travel as JSON strings of decimal digits, "int32"/"uint32" as JSON numbers,
"double"/ "float" as numbers, "date-time" (RFC 3339 with offset) and "date" (yyyy-mm-dd) as strings;
`type` "any" takes anything; `additionalProperties` makes an object a map; a property's
`annotations.required` lists the methods (such as "calendar.events.insert") whose request must carry
it. Fields the schema does not declare are problems unless the caller's allow-list documents them.

    doc = DiscoveryDocument(path)
    problems = validate(body, doc.response_schema("calendar.events.insert"), doc)
    problems = validate(sent, doc.request_schema("calendar.events.insert"), doc,
                        method="calendar.events.insert")"""

import json

from spec_common import (DATE, DATE_TIME, DATE_TIME_LOCAL, INT32_MAX, INT32_MIN, INT64_MAX,
                         INT64_MIN, UINT32_MAX, UINT64_MAX, child, index, int_string_problem,
                         is_integer, is_number, json_type, pattern)


class DiscoveryDocument:
    """One loaded Discovery document."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.schemas = self.doc["schemas"]

    def resolve(self, schema):
        while isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"]
            if name not in self.schemas:
                raise KeyError(f"the discovery document has no schema {name!r}")
            # Keys beside the $ref (annotations, description) stay with the referring property.
            schema = self.schemas[name]
        return schema

    def method(self, method_id):
        """A method by its id ("calendar.events.insert")."""
        parts = method_id.split(".")
        node = self.doc
        for resource in parts[1:-1]:
            node = node["resources"][resource]
        try:
            return node["methods"][parts[-1]]
        except KeyError:
            raise KeyError(f"the discovery document has no method {method_id}") from None

    def request_schema(self, method_id):
        ref = self.method(method_id).get("request")
        if not ref:
            raise KeyError(f"{method_id} takes no request body")
        return self.resolve(ref)

    def response_schema(self, method_id):
        """The response schema, or None for a method without a response body (events.delete)."""
        ref = self.method(method_id).get("response")
        return self.resolve(ref) if ref else None


def validate(value, schema, doc, path="$", method=None, allow=None):
    """The problems of value against schema (an empty list when it conforms).

    method: a method id whose `annotations.required` properties must be present (request bodies).
    allow: {path pattern: Documented} for fields the document lacks."""
    problems = []
    _check(value, schema, doc, path, method, allow or {}, problems)
    return problems


def _check(value, schema, doc, path, method, allow, problems):
    schema = doc.resolve(schema)
    if not schema:
        return
    t = schema.get("type")
    if t == "any":
        return
    if value is None:
        # Discovery has no nullability; JSON null clears a field in a PATCH request, and Google's
        # answers leave an unset field out rather than sending null.
        if method and method.endswith(".patch"):
            return
        problems.append(f"{path}: null where the document declares {t}")
        return
    if t == "object":
        _check_object(value, schema, doc, path, method, allow, problems)
    elif t == "array":
        if not isinstance(value, list):
            problems.append(f"{path}: expected array, got {json_type(value)}")
            return
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), doc, index(path, i), method, allow, problems)
    else:
        _check_scalar(value, schema, t, path, problems)
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']}")


def _check_object(value, schema, doc, path, method, allow, problems):
    if not isinstance(value, dict):
        problems.append(f"{path}: expected object, got {json_type(value)}")
        return
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for name, member in value.items():
        p = child(path, name)
        if name in props:
            if name == "dateTime" and isinstance(value.get("timeZone"), str) and \
                    isinstance(member, str) and DATE_TIME_LOCAL.fullmatch(member):
                # EventDateTime: "A time zone offset is required unless a time zone is explicitly
                # specified in timeZone" (the property's description in the document).
                continue
            _check(member, props[name], doc, p, method, allow, problems)
        elif pattern(p) in allow:
            _check(member, allow[pattern(p)].schema, doc, p, method, allow, problems)
        elif extra is not None:
            _check(member, extra, doc, p, method, allow, problems)
        else:
            problems.append(f"{p}: field not defined by the discovery document "
                            f"(type {json_type(member)})")
    if method:
        for name, prop in props.items():
            if method in prop.get("annotations", {}).get("required", []) and name not in value:
                problems.append(f"{child(path, name)}: required by {method} but missing")


def _check_scalar(value, schema, t, path, problems):
    fmt = schema.get("format")
    if t == "string":
        if fmt in ("int64", "uint64"):
            lo, hi = (INT64_MIN, INT64_MAX) if fmt == "int64" else (0, UINT64_MAX)
            problems.extend(int_string_problem(path, value, lo, hi, f"a {fmt}"))
            return
        if not isinstance(value, str):
            problems.append(f"{path}: expected string{' (' + fmt + ')' if fmt else ''}, "
                            f"got {json_type(value)} {value!r}")
            return
        if fmt == "date-time" and not DATE_TIME.fullmatch(value):
            problems.append(f"{path}: {value!r} is not an RFC 3339 date-time with offset")
        elif fmt == "date" and not DATE.fullmatch(value):
            problems.append(f"{path}: {value!r} is not a date (yyyy-mm-dd)")
    elif t == "integer":
        if not is_integer(value):
            problems.append(f"{path}: expected integer{' (' + fmt + ')' if fmt else ''}, "
                            f"got {json_type(value)} {value!r}")
            return
        lo, hi = {"uint32": (0, UINT32_MAX)}.get(fmt, (INT32_MIN, INT32_MAX))
        if not lo <= value <= hi:
            problems.append(f"{path}: {value} is out of range for {fmt or 'int32'}")
        for key, bad in (("minimum", lambda m: value < int(m)),
                         ("maximum", lambda m: value > int(m))):
            if key in schema and bad(schema[key]):
                problems.append(f"{path}: {value} violates the {key} {schema[key]}")
    elif t == "number":
        if not is_number(value):
            problems.append(f"{path}: expected number, got {json_type(value)} {value!r}")
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected boolean, got {json_type(value)} {value!r}")
    else:
        problems.append(f"{path}: the document declares unknown type {t!r}")
