"""One canonical form for DynamoDB values, whichever way they arrive.

Export lines carry DynamoDB JSON (`{"N": "592"}`); landing lines carry plain JSON plus `_types`
descriptors (docs/encoding.md). Both decode to the same *node* `(type, value)`:

    ("S", str) ("N", exact text) ("BOOL", bool) ("NULL", None) ("B", base64) ("SS", [str])
    ("NS", [exact text]) ("BS", [base64]) ("M", {name: node}) ("L", [node])

and a top-level attribute becomes one string `"<type>:<text>"` (see `attribute_text`), which is
what the Spark side types into columns (docs/types.md). Numbers are never passed through a float.
"""

import base64
import binascii
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Node = tuple[str, Any]

SCALAR_TYPES = ("S", "N", "BOOL", "NULL", "B")
SET_TYPES = ("SS", "NS", "BS")
ALL_TYPES = SCALAR_TYPES + SET_TYPES + ("M", "L")


class ValueError_(ValueError):
    """A value that is not valid DynamoDB data (the record is rejected with this message)."""


def number_text(raw: str | int | Decimal) -> str:
    """Exact, normalised plain text of a DynamoDB number: no exponent, no '+', no leading or
    trailing zeros ('1.50' -> '1.5', '1E+3' -> '1000', '-0' -> '0'). The value never changes."""
    if isinstance(raw, bool):
        raise ValueError_("a boolean is not a number")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, Decimal):
        d = raw
    else:
        if not isinstance(raw, str) or not raw.strip() or raw != raw.strip():
            raise ValueError_(f"number {raw!r} is not a decimal number")
        try:
            d = Decimal(raw)
        except InvalidOperation:
            raise ValueError_(f"number {raw!r} is not a decimal number") from None
    if not d.is_finite():
        raise ValueError_(f"number {raw!r} is not finite")
    sign, digits, exp = d.as_tuple()
    ds = "".join(map(str, digits)).lstrip("0")
    if not ds:
        return "0"
    # Strip trailing zeros into the exponent (exactly; no decimal context involved).
    stripped = ds.rstrip("0")
    exp += len(ds) - len(stripped)
    ds = stripped
    if exp >= 0:
        text = ds + "0" * exp
    elif -exp < len(ds):
        text = ds[:exp] + "." + ds[exp:]
    else:
        text = "0." + "0" * (-exp - len(ds)) + ds
    return ("-" if sign else "") + text


def binary_text(raw: Any) -> str:
    """Canonical base64 (RFC 4648, padded) of a base64 string."""
    if not isinstance(raw, str):
        raise ValueError_("a binary value must be a base64 string")
    try:
        return base64.b64encode(base64.b64decode(raw, validate=True)).decode("ascii")
    except (binascii.Error, ValueError):
        raise ValueError_(f"binary value {raw[:40]!r} is not valid base64") from None


def _sorted_numbers(texts: list[str]) -> list[str]:
    return sorted(set(texts), key=Decimal)


def _sorted_binaries(texts: list[str]) -> list[str]:
    return sorted(set(texts), key=base64.b64decode)


# ---------------------------------------------------------------------------------------------
# DynamoDB JSON (export files): {"S": "x"}, {"N": "1"}, {"M": {"a": {"S": "x"}}}, ...


def decode_ddb(value: Any) -> Node:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError_(f"not a DynamoDB JSON value: {json.dumps(value)[:80]}")
    ((t, v),) = value.items()
    if t == "S":
        if not isinstance(v, str):
            raise ValueError_("S value is not a string")
        return ("S", v)
    if t == "N":
        return ("N", number_text(v))
    if t == "BOOL":
        if not isinstance(v, bool):
            raise ValueError_("BOOL value is not true/false")
        return ("BOOL", v)
    if t == "NULL":
        return ("NULL", None)
    if t == "B":
        return ("B", binary_text(v))
    if t in SET_TYPES:
        return _set_node(t, v, "a list", number_text)
    if t == "M":
        if not isinstance(v, dict):
            raise ValueError_("M value is not an object")
        return ("M", {k: decode_ddb(x) for k, x in v.items()})
    if t == "L":
        if not isinstance(v, list):
            raise ValueError_("L value is not a list")
        return ("L", [decode_ddb(x) for x in v])
    raise ValueError_(f"unknown DynamoDB type {t!r}")


def _set_node(t: str, items: Any, what: str, number: Callable[[Any], str]) -> Node:
    """A set (SS, NS, BS): `items` must be a list (`what` names it in the error); the members are
    sorted and distinct, numbers read by `number`."""
    if not isinstance(items, list):
        raise ValueError_(f"{t} value is not {what}")
    if t == "SS":
        if not all(isinstance(x, str) for x in items):
            raise ValueError_("SS holds a non-string")
        return ("SS", sorted(set(items)))
    if t == "NS":
        return ("NS", _sorted_numbers([number(x) for x in items]))
    return ("BS", _sorted_binaries([binary_text(x) for x in items]))


# ---------------------------------------------------------------------------------------------
# Plain JSON + descriptors (landing lines, docs/encoding.md)


def decode_plain(value: Any, descriptor: Any = None) -> Node:
    if descriptor is not None:
        if descriptor == "B":
            return ("B", binary_text(value))
        if descriptor in SET_TYPES:
            return _set_node(descriptor, value, "an array", _plain_number_text)
        if isinstance(descriptor, dict) and len(descriptor) == 1:
            ((dt, inner),) = descriptor.items()
            if not isinstance(inner, dict):
                raise ValueError_(f"descriptor {dt} must hold an object")
            if dt == "M":
                if not isinstance(value, dict):
                    raise ValueError_("descriptor M on a non-object")
                return ("M", {k: decode_plain(x, inner.get(k)) for k, x in value.items()})
            if dt == "L":
                if not isinstance(value, list):
                    raise ValueError_("descriptor L on a non-array")
                return ("L", [decode_plain(x, inner.get(str(i))) for i, x in enumerate(value)])
        raise ValueError_(f"unknown type descriptor {json.dumps(descriptor)[:60]}")
    if isinstance(value, str):
        return ("S", value)
    if isinstance(value, bool):
        return ("BOOL", value)
    if isinstance(value, (int, Decimal)):
        return ("N", number_text(value))
    if value is None:
        return ("NULL", None)
    if isinstance(value, dict):
        return ("M", {k: decode_plain(x) for k, x in value.items()})
    if isinstance(value, list):
        return ("L", [decode_plain(x) for x in value])
    raise ValueError_(f"unsupported JSON value {value!r}")


def _json_number(x: Any) -> int | Decimal:
    if isinstance(x, bool) or not isinstance(x, (int, Decimal)):
        raise ValueError_("NS holds a non-number")
    return x


def _plain_number_text(x: Any) -> str:
    return number_text(_json_number(x))


# ---------------------------------------------------------------------------------------------
# Canonical text


class _Num:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _plain(node: Node) -> Any:
    t, v = node
    if t == "N":
        return _Num(v)
    if t == "NS":
        return [_Num(x) for x in v]
    if t == "M":
        return {k: _plain(x) for k, x in v.items()}
    if t == "L":
        return [_plain(x) for x in v]
    return v  # S, BOOL, NULL, B, SS, BS are already plain


def canonical_json(value: Any) -> str:
    """Compact JSON, keys sorted, non-ASCII kept, numbers as their exact text."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, _Num):
        out.append(value.text)
    elif isinstance(value, dict):
        out.append("{")
        for i, k in enumerate(sorted(value)):
            if i:
                out.append(",")
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(":")
            _write(value[k], out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, x in enumerate(value):
            if i:
                out.append(",")
            _write(x, out)
        out.append("]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def attribute_text(node: Node) -> str:
    """`"<type>:<text>"`: S/N/B as their text, BOOL as true/false, NULL empty, sets, maps and lists
    as canonical JSON (sets sorted, so equal sets have equal text)."""
    t, v = node
    if t in ("S", "N", "B"):
        return f"{t}:{v}"
    if t == "BOOL":
        return "BOOL:true" if v else "BOOL:false"
    if t == "NULL":
        return "NULL:"
    return f"{t}:{canonical_json(_plain(node))}"


def plain_json_of(node: Node) -> str:
    return canonical_json(_plain(node))
