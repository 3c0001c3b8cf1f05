"""Checks JSON values against the OData CSDL of Microsoft Graph v1.0 (shared/specs/microsoft/
graph-v1.0-Prod.csdl): EntityType and ComplexType with their BaseType chains, Property and
NavigationProperty (an expanded navigation property is checked as its target type), EnumType members
(IsFlags: comma-separated members), `Collection(...)`, Nullable, and the Edm primitive types in
their OData JSON form (Edm.Int64 and the other integers as JSON numbers, Edm.Double as a number or
"NaN"/"INF"/"-INF", Edm.DateTimeOffset as RFC 3339 with offset, Edm.Date, Edm.TimeOfDay,
Edm.Duration, Edm.Guid and Edm.Binary as strings of their shapes).

OData control information (`@odata.context`, `@odata.etag`, `@odata.type`, `@odata.id`,
`@odata.nextLink`, `@odata.deltaLink`, …) is accepted on any object; `@odata.type` switches the
check to the named derived type. Every other member the type does not declare is a problem, also on
types the CSDL marks OpenType (event, user): Graph opens them for extension data, which an emulator
never invents. Only an open type the caller names in `open_types` (say graph.resourceData) takes
anything. The caller's allow-list (spec_common.Documented, with a CSDL type name as its schema) adds
fields.

    model = CsdlModel(path)
    problems = model.validate(body, "graph.event")
    problems = model.validate_collection(body, "graph.event")  # {"value":[…], "@odata.nextLink"}"""

import collections
import re
import xml.etree.ElementTree as ET

from spec_common import (DATE, DATE_TIME, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, child, index,
                         is_integer, is_number, json_type, pattern)

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

Prop = collections.namedtuple("Prop", "name type nullable navigation")


class TypeDef:
    def __init__(self, kind, name, base, abstract, open_type):
        self.kind = kind          # "entity", "complex" or "enum"
        self.name = name          # qualified: "microsoft.graph.event"
        self.base = base          # qualified base type name or None
        self.abstract = abstract
        self.open = open_type
        self.props = {}           # declared here, not inherited
        self.key = []             # key property names (entity types)
        self.members = set()      # enum members
        self.flags = False


CONTROL = {"@odata.context", "@odata.etag", "@odata.type", "@odata.id", "@odata.editLink",
           "@odata.readLink", "@odata.nextLink", "@odata.deltaLink", "@odata.count"}

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIME_OF_DAY = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
DURATION = re.compile(r"-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")
BASE64 = re.compile(r"[A-Za-z0-9+/_-]*=*")

INTEGERS = {"Edm.Byte": (0, 255), "Edm.SByte": (-128, 127), "Edm.Int16": (-32768, 32767),
            "Edm.Int32": (INT32_MIN, INT32_MAX), "Edm.Int64": (INT64_MIN, INT64_MAX)}


class CsdlModel:
    """The types of one CSDL document, by qualified name and by alias."""

    def __init__(self, path):
        self.types = {}
        self.aliases = {}
        root = ET.parse(path).getroot()
        for schema in root.iter(EDM + "Schema"):
            ns = schema.get("Namespace")
            alias = schema.get("Alias")
            if alias:
                self.aliases[alias] = ns
        for schema in root.iter(EDM + "Schema"):
            ns = schema.get("Namespace")
            for el in schema:
                tag = el.tag[len(EDM):]
                kind = {"EntityType": "entity", "ComplexType": "complex",
                        "EnumType": "enum"}.get(tag)
                if not kind:
                    continue
                t = TypeDef(kind, f"{ns}.{el.get('Name')}",
                            self.qualify(el.get("BaseType")) if el.get("BaseType") else None,
                            el.get("Abstract") == "true", el.get("OpenType") == "true")
                t.flags = el.get("IsFlags") == "true"
                for sub in el:
                    stag = sub.tag[len(EDM):]
                    if stag in ("Property", "NavigationProperty"):
                        t.props[sub.get("Name")] = Prop(
                            sub.get("Name"), self.qualify(sub.get("Type")),
                            sub.get("Nullable") != "false", stag == "NavigationProperty")
                    elif stag == "Member":
                        t.members.add(sub.get("Name"))
                    elif stag == "Key":
                        t.key = [r.get("Name") for r in sub.iter(EDM + "PropertyRef")]
                self.types[t.name] = t
        self._derived = collections.defaultdict(list)
        for t in self.types.values():
            if t.base:
                self._derived[t.base].append(t.name)

    def qualify(self, name):
        """"graph.event" → "microsoft.graph.event"; also inside Collection(...)."""
        if name is None:
            return None
        m = re.fullmatch(r"Collection\((.*)\)", name)
        if m:
            return f"Collection({self.qualify(m.group(1))})"
        if name.startswith("Edm."):
            return name
        prefix, _, rest = name.partition(".")
        if prefix in self.aliases:
            return f"{self.aliases[prefix]}.{rest}"
        return name

    def type(self, name):
        q = self.qualify(name)
        if q not in self.types:
            raise KeyError(f"the CSDL has no type {name!r}")
        return self.types[q]

    def properties(self, name):
        """Every property of a structured type, inherited ones first."""
        chain = []
        t = self.type(name)
        while t:
            chain.append(t)
            t = self.types.get(t.base) if t.base else None
        out = {}
        for t in reversed(chain):
            out.update(t.props)
        return out

    def key(self, name):
        t = self.type(name)
        while t:
            if t.key:
                return t.key
            t = self.types.get(t.base) if t.base else None
        return []

    def derives_from(self, name, base):
        q, b = self.qualify(name), self.qualify(base)
        while q:
            if q == b:
                return True
            q = self.types[q].base if q in self.types else None
        return False

    def validate(self, value, type_name, path="$", allow=None, nullable=True, open_types=(),
                 require_key=True, require_non_nullable=False, may_omit=None):
        """The problems of value as an instance of type_name (an empty list when it conforms).

        require_key: entity values must carry their key (answers; False for request bodies).
        require_non_nullable: non-nullable properties must be present (a full entity such as a
        created subscription, or a request that must name them all). In answers (require_key)
        those of complex values always must: Graph writes every member of a complex value,
        while a request may leave a non-nullable member out to take its default.
        open_types: open types that take members the CSDL does not declare.
        may_omit: {path pattern: citation} for non-nullable properties a note documents as
        absent from the live payload."""
        problems = []
        ctx = _Context(self, allow or {}, {self.qualify(t) for t in open_types}, require_key,
                       require_non_nullable, may_omit or {}, problems)
        ctx.check(value, self.qualify(type_name), nullable, path)
        return problems

    def validate_collection(self, body, item_type, path="$", allow=None, open_types=(),
                            require_key=True, item_allow_removed=False):
        """A collection answer: {"value": [items], "@odata.nextLink" | "@odata.deltaLink", …}.

        item_allow_removed: delta answers, whose items may be `{"id", "@removed"}` entries."""
        problems = []
        if not isinstance(body, dict):
            return [f"{path}: expected an object with a value array, got {json_type(body)}"]
        for name, member in body.items():
            p = child(path, name)
            if name == "value":
                continue
            if name in CONTROL:
                if not isinstance(member, str) and name != "@odata.count":
                    problems.append(f"{p}: expected string, got {json_type(member)}")
            elif pattern(p) in (allow or {}):
                problems.extend(self.validate(member, allow[pattern(p)].schema, p, allow,
                                              open_types=open_types, require_key=require_key))
            else:
                problems.append(f"{p}: member not defined for an OData collection answer")
        items = body.get("value")
        if not isinstance(items, list):
            problems.append(f"{child(path, 'value')}: expected array, got {json_type(items)}")
            return problems
        for i, item in enumerate(items):
            p = index(child(path, "value"), i)
            if item_allow_removed and isinstance(item, dict) and "@removed" in item:
                problems.extend(self._removed_item(item, item_type, p))
                continue
            problems.extend(self.validate(item, item_type, p, allow, nullable=False,
                                          open_types=open_types, require_key=require_key))
        return problems

    def _removed_item(self, item, item_type, path):
        """A delta item for a deleted entity: its key, optional control information and
        `@removed: {"reason": "changed"|"deleted"}` (shared/providers/MICROSOFT.md ME-20)."""
        problems = []
        for k in self.key(item_type):
            if not isinstance(item.get(k), str):
                problems.append(f"{child(path, k)}: a removed item must carry its key")
        for name, member in item.items():
            p = child(path, name)
            if name == "@removed":
                if not isinstance(member, dict) or set(member) != {"reason"} or \
                        member["reason"] not in ("changed", "deleted"):
                    problems.append(f"{p}: expected {{\"reason\": \"changed\"|\"deleted\"}}, "
                                    f"got {member!r}")
            elif name == "@odata.type":
                if not isinstance(member, str) or not self._known_subtype(member, item_type):
                    problems.append(f"{p}: {member!r} is not {item_type} or derived from it")
            elif name not in CONTROL and name not in self.key(item_type):
                problems.append(f"{p}: field not expected in a removed item")
        return problems

    def _known_subtype(self, odata_type, declared):
        name = odata_type[1:] if odata_type.startswith("#") else odata_type
        name = self.qualify(name)
        return name in self.types and self.derives_from(name, declared)


class _Context:
    def __init__(self, model, allow, open_types, require_key, require_non_nullable, may_omit,
                 problems):
        self.model = model
        self.allow = allow
        self.open_types = open_types
        self.require_key = require_key
        self.require_non_nullable = require_non_nullable
        self.may_omit = may_omit
        self.problems = problems

    def bad(self, path, text):
        self.problems.append(f"{path}: {text}")

    def check(self, value, type_name, nullable, path):
        m = re.fullmatch(r"Collection\((.*)\)", type_name)
        if m:
            if not isinstance(value, list):
                self.bad(path, f"expected array ({type_name}), got {json_type(value)}")
                return
            for i, item in enumerate(value):
                self.check(item, m.group(1), nullable, index(path, i))
            return
        if value is None:
            if not nullable:
                self.bad(path, f"null where the CSDL declares non-nullable {type_name}")
            return
        if type_name.startswith("Edm."):
            self.primitive(value, type_name, path)
            return
        t = self.model.types.get(type_name)
        if t is None:
            self.bad(path, f"the CSDL has no type {type_name}")
        elif t.kind == "enum":
            self.enum(value, t, path)
        else:
            self.structured(value, t, path)

    def enum(self, value, t, path):
        if not isinstance(value, str):
            self.bad(path, f"expected a {t.name} member name (string), got {json_type(value)}")
            return
        parts = value.split(",") if t.flags else [value]
        members = t.members
        if not self.require_key:
            # Requests: Graph reads enum members in any case (its docs send "HTML"); answers
            # must use the CSDL spelling.
            members = {m.lower() for m in t.members}
            parts = [p.lower() for p in parts]
        for part in parts:
            if part.strip() not in members:
                self.bad(path, f"{part.strip()!r} is not a member of {t.name} "
                               f"({', '.join(sorted(t.members))})")

    def structured(self, value, t, path):
        if not isinstance(value, dict):
            self.bad(path, f"expected object ({t.name}), got {json_type(value)}")
            return
        odata_type = value.get("@odata.type")
        if odata_type is not None and t.open and t.name in self.open_types:
            # An open container (resourceData) names the type of the resource it describes,
            # which is not a type derived from the container's: nothing to switch to.
            if not isinstance(odata_type, str):
                self.bad(child(path, "@odata.type"), f"expected string, got "
                                                     f"{json_type(odata_type)}")
        elif odata_type is not None:
            if not isinstance(odata_type, str) or not self.model._known_subtype(odata_type,
                                                                               t.name):
                self.bad(child(path, "@odata.type"),
                         f"{odata_type!r} is not {t.name} or a type derived from it")
            else:
                t = self.model.types[self.model.qualify(odata_type.lstrip("#"))]
        if t.abstract and odata_type is None and t.kind == "complex":
            self.bad(path, f"{t.name} is abstract: the value must name its type in @odata.type")
        props = self.model.properties(t.name)
        for name, member in value.items():
            p = child(path, name)
            if name in props:
                prop = props[name]
                self.check(member, prop.type, prop.nullable, p)
            elif name in CONTROL:
                if name == "@odata.count":
                    if not is_integer(member):
                        self.bad(p, f"expected integer, got {json_type(member)}")
                elif not isinstance(member, str):
                    self.bad(p, f"expected string, got {json_type(member)}")
            elif pattern(p) in self.allow:
                doc = self.allow[pattern(p)]
                self.check(member, self.model.qualify(doc.schema), True, p)
            elif t.open and t.name in self.open_types:
                continue
            else:
                self.bad(p, f"field not defined by {t.name} or its base types "
                            f"(type {json_type(member)})")
        if t.kind == "entity" and self.require_key:
            for k in self.model.key(t.name):
                if k not in value:
                    self.bad(child(path, k), f"the key of {t.name} is missing")
        if (t.kind == "complex" and self.require_key) or self.require_non_nullable:
            keys = self.model.key(t.name) if t.kind == "entity" else []
            for name, prop in props.items():
                if name in keys and not self.require_key:
                    continue  # a request body: the service assigns the key
                if pattern(child(path, name)) in self.may_omit:
                    continue
                if not prop.nullable and not prop.navigation and name not in value and \
                        not prop.type.startswith("Collection("):
                    self.bad(child(path, name),
                             f"non-nullable {prop.type} of {t.name} is missing")

    def primitive(self, value, type_name, path):
        if type_name in INTEGERS:
            lo, hi = INTEGERS[type_name]
            if not is_integer(value):
                self.bad(path, f"expected integer ({type_name}), got {json_type(value)} "
                               f"{value!r}")
            elif not lo <= value <= hi:
                self.bad(path, f"{value} is out of range for {type_name}")
            return
        if type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
            if not is_number(value) and value not in ("NaN", "INF", "-INF"):
                self.bad(path, f"expected number ({type_name}), got {json_type(value)} "
                               f"{value!r}")
            return
        if type_name == "Edm.Boolean":
            if not isinstance(value, bool):
                self.bad(path, f"expected boolean, got {json_type(value)} {value!r}")
            return
        if type_name in ("Edm.Stream", "Edm.Untyped"):
            return
        if not isinstance(value, str):
            self.bad(path, f"expected string ({type_name}), got {json_type(value)} {value!r}")
            return
        shape = {"Edm.DateTimeOffset": DATE_TIME, "Edm.Date": DATE, "Edm.TimeOfDay": TIME_OF_DAY,
                 "Edm.Duration": DURATION, "Edm.Guid": GUID, "Edm.Binary": BASE64}.get(type_name)
        if shape is not None and not shape.fullmatch(value):
            self.bad(path, f"{value!r} is not a valid {type_name}")
