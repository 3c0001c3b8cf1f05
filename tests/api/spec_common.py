"""What the three spec checkers (spec_openapi, spec_discovery, spec_csdl) share: JSON paths, the
documented-field allow-list entry, JSON type names and the date/time shapes the specs name.

A checker answers a list of problems, each a string "JSON path: what is wrong"; an empty list means
the value conforms. Paths look like `$.items[2].start.dateTime`. An allow-list maps a path pattern,
where every array index is written `[]` (`$.items[].conferenceData`), to a `Documented` entry: a
field the spec lacks but a provider note documents from the live API, with the schema its value must
have (in the dialect of the checker that receives it) and the citation."""

import collections
import os
import re

# A field the spec lacks that a note in shared/providers documents from the live API. `schema` is
# checked like any spec schema; `source` names the note and the line that documents the field.
Documented = collections.namedtuple("Documented", "schema source")


def specs_dir():
    """The shared spec folder: $CALENDOX_SPECS, else ../shared/specs beside the repository."""
    env = os.environ.get("CALENDOX_SPECS")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "specs"))


def child(path, key):
    """The path of an object member."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def index(path, i):
    return f"{path}[{i}]"


def pattern(path):
    """The allow-list form of a path: array indexes become []."""
    return re.sub(r"\[\d+\]", "[]", path)


def json_type(value):
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
UINT32_MAX = 2 ** 32 - 1
UINT64_MAX = 2 ** 64 - 1

# RFC 3339 date-time; the offset is optional because Zoom's spec also calls its local
# "yyyy-MM-ddTHH:mm:ss" (paired with a `timezone` field) a date-time.
DATE_TIME_LOOSE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", re.IGNORECASE)
# RFC 3339 with its mandatory offset.
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                       re.IGNORECASE)
# A local date-time without offset (Google's EventDateTime.dateTime beside a timeZone).
DATE_TIME_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DIGITS = re.compile(r"-?\d+")


def int_string_problem(path, value, lo, hi, what):
    """Checks a decimal string that stands for a 64-bit integer (a JSON string by convention)."""
    if not isinstance(value, str):
        return [f"{path}: expected a string holding {what}, got {json_type(value)} {value!r}"]
    if not DIGITS.fullmatch(value) or not lo <= int(value) <= hi:
        return [f"{path}: expected {what} as a decimal string, got {value!r}"]
    return []


def format_problems(endpoint, problems):
    """A failure message naming the endpoint and every problem."""
    return f"{endpoint} does not conform to the spec:\n  " + "\n  ".join(problems)
