"""The ordering value: one ASCII string per version whose byte order is the version order.

    with an ordering attribute:    <attribute part>|<ts:15 digits>|<seq:40 digits>
    without (stream order):        <ts:15 digits>|<seq:40 digits>

`ts` is the stream record's ApproximateCreationDateTime (epoch ms), `seq` its SequenceNumber.
Exported rows get ts = the export's second (epoch ms, rounded down) and seq = 0, so they lose to
every stream change from that second on (docs/ordering.md says why that converges).

The attribute part is order preserving *and* prefix free, so the tuple compares lexicographically
whatever its length: numbers by value (fixed width), strings and binaries by their UTF-8 bytes.
It is pure ASCII, so Java (Hudi's payload), Spark and Python all order it the same way.
"""

import base64
import re
from decimal import Decimal

from .values import Node, ValueError_

_PLAIN = re.compile(rb"[\x23-\x7d]*")
TS_DIGITS = 15
SEQ_DIGITS = 40
_MANTISSA = 40
_EXP_OFFSET = 500


def number_part(text: str) -> str:
    """Fixed-width order-preserving encoding of an exact number (`values.number_text` form)."""
    d = Decimal(text)
    if d == 0:
        return "1"
    sign, digits, exp = d.as_tuple()
    ds = "".join(map(str, digits)).lstrip("0")
    e = exp + len(ds)  # value = 0.<ds> * 10^e
    ds = ds.rstrip("0")
    if len(ds) > _MANTISSA or not -_EXP_OFFSET < e < 1000 - _EXP_OFFSET:
        raise ValueError_(f"number {text} is out of the ordering range")
    mantissa = ds.ljust(_MANTISSA, "0")
    if not sign:
        return "2" + f"{e + _EXP_OFFSET:03d}" + mantissa
    complement = "".join(chr(ord("9") - ord(c) + ord("0")) for c in mantissa)
    return "0" + f"{999 - (e + _EXP_OFFSET):03d}" + complement


def bytes_part(raw: bytes) -> str:
    """Order-preserving, prefix-free ASCII form of a byte string, readable for printable ASCII.

    '#'..'}' stay as they are; lower bytes become '"' + 2 hex digits, '~' and higher bytes
    '~' + 2 hex digits; '!' terminates. So escapes of low bytes sort below every kept byte, escapes
    of high bytes above, and a value sorts before every longer value it is a prefix of.
    """
    if _PLAIN.fullmatch(raw):
        return raw.decode("ascii") + "!"
    out = []
    for b in raw:
        if 0x23 <= b <= 0x7D:
            out.append(chr(b))
        elif b < 0x23:
            out.append(f'"{b:02x}')
        else:
            out.append(f"~{b:02x}")
    out.append("!")
    return "".join(out)


def attribute_part(node: Node | None) -> str:
    """Encoding of the ordering attribute's value; a missing or NULL value sorts lowest."""
    if node is None or node[0] == "NULL":
        return "A"
    t, v = node
    if t == "N":
        return "N" + number_part(v)
    if t == "S":
        return "S" + bytes_part(v.encode("utf-8"))
    if t == "B":
        return "T" + bytes_part(base64.b64decode(v))
    raise ValueError_(f"the ordering attribute must be a string, number or binary, not {t}")


def stream_part(ts_ms: int, seq: int) -> str:
    if ts_ms < 0 or ts_ms >= 10**TS_DIGITS:
        raise ValueError_(f"_ts {ts_ms} is out of range")
    if seq < 0 or seq >= 10**SEQ_DIGITS:
        raise ValueError_("_seq has more than 40 digits")
    return f"{ts_ms:0{TS_DIGITS}d}|{seq:0{SEQ_DIGITS}d}"


def ordering_value(attribute: str | None, node: Node | None, ts_ms: int, seq: int) -> str:
    """The full ordering value; `attribute` is the configured ordering attribute (or None)."""
    if attribute is None:
        return stream_part(ts_ms, seq)
    return attribute_part(node) + "|" + stream_part(ts_ms, seq)


def export_stream_position(export_time_ms: int) -> int:
    """ts given to exported rows: the export's second, so stream changes of that second win."""
    return (export_time_ms // 1000) * 1000
