/**
 * The landing line format of docs/encoding.md: one JSON object per stream record, the item as plain
 * JSON plus reserved `_op/_seq/_ts/_ttl/_types` fields. The encoder builds the JSON text by hand so
 * that numbers are copied textually (never through a JS double); the decoder uses the exact parser
 * of ./exact-json.ts for the same reason.
 */
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { ExactJsonNumber, parseExactJson, type ExactJsonValue } from './exact-json';

/** Why a record cannot be written as a landing line; the handler sends it to `_dead/`. */
export class EncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodingError';
  }
}

/** Type descriptor of a value whose plain JSON is ambiguous (docs/encoding.md, "Values"). */
export type TypeDescriptor =
  'B' | 'SS' | 'NS' | 'BS' | { M: Record<string, TypeDescriptor> } | { L: Record<string, TypeDescriptor> };

export type ChangeOp = 'insert' | 'modify' | 'remove';

/** A decoded landing line. `item` holds attribute names as in DynamoDB (escaping undone). */
export interface DecodedChange {
  op: ChangeOp;
  /** Stream sequence number (digits; compare as integers). */
  seq: string;
  /** ApproximateCreationDateTime, epoch milliseconds. */
  ts: number;
  ttl: boolean;
  item: Record<string, AttributeValue>;
}

const OPS: Record<string, ChangeOp> = { INSERT: 'insert', MODIFY: 'modify', REMOVE: 'remove' };

/** JSON's number grammar (RFC 8259): a DynamoDB number in this form is copied unchanged. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** Every decimal form DynamoDB accepts: optional sign, digits with an optional point, optional exponent. */
const DECIMAL_NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:([eE])([+-]?\d+))?$/;
/** RFC 4648 base64 with padding (the form DynamoDB and Lambda use for B). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SEQUENCE_NUMBER = /^\d{1,40}$/;

/**
 * A DynamoDB number as a JSON number literal. Forms JSON does not allow are rewritten textually
 * (`+1` → `1`, `.5` → `0.5`, `5.` → `5`, `007` → `7`); digits, exponent and value never change.
 */
export function jsonNumberLiteral(text: string): string {
  if (JSON_NUMBER.test(text)) return text;
  const m = DECIMAL_NUMBER.exec(text);
  if (!m || (m[2] === '' && !m[3])) throw new EncodingError(`N value ${JSON.stringify(text)} is not a decimal number`);
  const [, sign, intPart, fraction, e, exponent] = m;
  const integer = intPart!.replace(/^0+(?=\d)/, '') || '0';
  return `${sign === '-' ? '-' : ''}${integer}${fraction ? `.${fraction}` : ''}${e ? `${e}${exponent}` : ''}`;
}

/**
 * The canonical form of a decimal number, for comparing values written differently
 * (`1.50` = `1.5` = `15E-1`): `0`, or `[-]<digits without leading/trailing zeros>e<exponent>`.
 */
export function canonicalNumber(text: string): string {
  const m = DECIMAL_NUMBER.exec(text);
  if (!m || (m[2] === '' && !m[3])) throw new Error(`not a decimal number: ${text}`);
  const [, sign, intPart, fraction = '', , exponent = '0'] = m;
  let digits = `${intPart}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  let exp = BigInt(exponent) - BigInt(fraction.length);
  const trimmed = digits.replace(/0+$/, '');
  exp += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${sign === '-' ? '-' : ''}${digits}e${exp}`;
}

/** The landing line (without its `\n`) of one stream record; throws EncodingError if it cannot be one. */
export function encodeRecord(record: DynamoDBRecord): string {
  const op = OPS[record.eventName ?? ''];
  if (!op) throw new EncodingError(`eventName ${JSON.stringify(record.eventName)} is not INSERT, MODIFY or REMOVE`);
  const stream = record.dynamodb;
  if (!stream) throw new EncodingError('record has no dynamodb section');
  const seq = stream.SequenceNumber;
  if (typeof seq !== 'string' || !SEQUENCE_NUMBER.test(seq))
    throw new EncodingError(`SequenceNumber ${JSON.stringify(seq)} is not 1-40 digits`);
  const created = stream.ApproximateCreationDateTime;
  if (typeof created !== 'number' || !Number.isFinite(created) || created < 0)
    throw new EncodingError(`ApproximateCreationDateTime ${JSON.stringify(created)} is not epoch seconds`);

  let image: Record<string, AttributeValue> | undefined;
  if (op === 'remove') image = stream.OldImage ?? stream.Keys;
  else {
    image = stream.NewImage;
    if (!image)
      throw new EncodingError(
        `${record.eventName} record has no NewImage (stream view type ${stream.StreamViewType ?? 'unknown'}); the table's stream must be NEW_IMAGE or NEW_AND_OLD_IMAGES`,
      );
  }
  if (!image || typeof image !== 'object') throw new EncodingError('REMOVE record has neither OldImage nor Keys');

  const parts: string[] = [];
  let types: Record<string, TypeDescriptor> | undefined;
  for (const name of Object.keys(image)) {
    const value = image[name];
    if (value === undefined) continue;
    let encoded: EncodedValue;
    try {
      encoded = encodeValue(value);
    } catch (err) {
      if (err instanceof EncodingError) throw new EncodingError(`attribute ${JSON.stringify(name)}: ${err.message}`);
      throw err;
    }
    parts.push(`${JSON.stringify(name.charCodeAt(0) === 95 /* _ */ ? `_${name}` : name)}:${encoded.json}`);
    if (encoded.type !== undefined)
      (types ??= Object.create(null) as Record<string, TypeDescriptor>)[name] = encoded.type;
  }
  parts.push(
    `"_op":"${op}"`,
    `"_seq":"${seq}"`,
    `"_ts":${Math.round(created * 1000)}`,
    `"_ttl":${isTtlRemoval(record)}`,
  );
  if (types) parts.push(`"_types":${JSON.stringify(types)}`);
  return `{${parts.join(',')}}`;
}

/** A REMOVE done by DynamoDB's TTL process (docs: userIdentity Service / dynamodb.amazonaws.com). */
function isTtlRemoval(record: DynamoDBRecord): boolean {
  const identity = record.userIdentity as { type?: unknown; principalId?: unknown } | undefined;
  return (
    record.eventName === 'REMOVE' && identity?.type === 'Service' && identity.principalId === 'dynamodb.amazonaws.com'
  );
}

interface EncodedValue {
  json: string;
  type?: TypeDescriptor;
}

function encodeValue(value: AttributeValue): EncodedValue {
  const [type, raw] = onlyMember(value);
  switch (type) {
    case 'S':
      if (typeof raw !== 'string') throw new EncodingError('S value is not a string');
      return { json: JSON.stringify(raw) };
    case 'N':
      if (typeof raw !== 'string') throw new EncodingError('N value is not a string');
      return { json: jsonNumberLiteral(raw) };
    case 'BOOL':
      if (typeof raw !== 'boolean') throw new EncodingError('BOOL value is not a boolean');
      return { json: raw ? 'true' : 'false' };
    case 'NULL':
      if (raw !== true) throw new EncodingError('NULL value is not true');
      return { json: 'null' };
    case 'B':
      return { json: JSON.stringify(checkBase64(raw)), type: 'B' };
    case 'SS':
      return {
        json: encodeSet(raw, 'SS', (s) => {
          if (typeof s !== 'string') throw new EncodingError('SS member is not a string');
          return JSON.stringify(s);
        }),
        type: 'SS',
      };
    case 'NS':
      return {
        json: encodeSet(raw, 'NS', (n) => {
          if (typeof n !== 'string') throw new EncodingError('NS member is not a string');
          return jsonNumberLiteral(n);
        }),
        type: 'NS',
      };
    case 'BS':
      return { json: encodeSet(raw, 'BS', (b) => JSON.stringify(checkBase64(b))), type: 'BS' };
    case 'M': {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        throw new EncodingError('M value is not an object');
      const map = raw as Record<string, AttributeValue>;
      const parts: string[] = [];
      let inner: Record<string, TypeDescriptor> | undefined;
      for (const key of Object.keys(map)) {
        const member = map[key];
        if (member === undefined) continue;
        const encoded = encodeValue(member);
        parts.push(`${JSON.stringify(key)}:${encoded.json}`);
        if (encoded.type !== undefined)
          (inner ??= Object.create(null) as Record<string, TypeDescriptor>)[key] = encoded.type;
      }
      return { json: `{${parts.join(',')}}`, type: inner && { M: inner } };
    }
    case 'L': {
      if (!Array.isArray(raw)) throw new EncodingError('L value is not an array');
      const parts: string[] = [];
      let inner: Record<string, TypeDescriptor> | undefined;
      for (let i = 0; i < raw.length; i++) {
        const encoded = encodeValue(raw[i] as AttributeValue);
        parts.push(encoded.json);
        if (encoded.type !== undefined)
          (inner ??= Object.create(null) as Record<string, TypeDescriptor>)[String(i)] = encoded.type;
      }
      return { json: `[${parts.join(',')}]`, type: inner && { L: inner } };
    }
    default:
      throw new EncodingError(`unknown attribute type ${JSON.stringify(type)}`);
  }
}

function onlyMember(value: AttributeValue): [string, unknown] {
  if (typeof value !== 'object' || value === null) throw new EncodingError('attribute value is not an object');
  let type: string | undefined;
  let found: unknown;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    if (type !== undefined) throw new EncodingError(`attribute value has more than one type (${type}, ${key})`);
    type = key;
    found = member;
  }
  if (type === undefined) throw new EncodingError('attribute value has no type');
  return [type, found];
}

function encodeSet(raw: unknown, type: string, member: (m: unknown) => string): string {
  if (!Array.isArray(raw)) throw new EncodingError(`${type} value is not an array`);
  if (raw.length === 0) throw new EncodingError(`${type} value is empty (DynamoDB sets are never empty)`);
  return `[${raw.map(member).join(',')}]`;
}

function checkBase64(raw: unknown): string {
  if (typeof raw !== 'string' || !BASE64.test(raw)) throw new EncodingError('binary value is not padded base64');
  return raw;
}

// ─── decoding ────────────────────────────────────────────────────────────────────────────────

/** Decodes one landing line (docs/encoding.md). Throws with the reason on anything malformed. */
export function decodeLine(line: string): DecodedChange {
  const parsed = parseExactJson(line);
  if (!(parsed instanceof Map)) throw new Error('a landing line must be a JSON object');
  const op = parsed.get('_op');
  const seq = parsed.get('_seq');
  const ts = parsed.get('_ts');
  const ttl = parsed.get('_ttl');
  if (op !== 'insert' && op !== 'modify' && op !== 'remove')
    throw new Error(`_op ${describe(op)} is not insert, modify or remove`);
  if (typeof seq !== 'string' || !SEQUENCE_NUMBER.test(seq))
    throw new Error(`_seq ${describe(seq)} is not a string of digits`);
  if (!(ts instanceof ExactJsonNumber) || !/^\d+$/.test(ts.text) || !Number.isSafeInteger(Number(ts.text)))
    throw new Error(`_ts ${describe(ts)} is not epoch milliseconds`);
  if (typeof ttl !== 'boolean') throw new Error(`_ttl ${describe(ttl)} is not a boolean`);
  const typesField = parsed.get('_types');
  if (typesField !== undefined && !(typesField instanceof Map)) throw new Error('_types is not an object');
  const types = typesField ?? new Map<string, ExactJsonValue>();

  const item: Record<string, AttributeValue> = {};
  const seen = new Set<string>();
  for (const [field, value] of parsed) {
    let name: string;
    if (field.startsWith('__')) name = field.slice(1);
    else if (field.startsWith('_'))
      continue; // metadata (unknown metadata fields are ignored)
    else name = field;
    seen.add(name);
    setOwn(item, name, toAttributeValue(value, types.get(name), name));
  }
  for (const name of types.keys())
    if (!seen.has(name)) throw new Error(`_types names ${JSON.stringify(name)}, which the line does not hold`);
  return { op, seq, ts: Number(ts.text), ttl, item };
}

function toAttributeValue(value: ExactJsonValue, descriptor: ExactJsonValue | undefined, path: string): AttributeValue {
  if (descriptor === undefined) {
    if (typeof value === 'string') return { S: value };
    if (value instanceof ExactJsonNumber) return { N: value.text };
    if (typeof value === 'boolean') return { BOOL: value };
    if (value === null) return { NULL: true };
    if (Array.isArray(value)) return { L: value.map((v, i) => toAttributeValue(v, undefined, `${path}[${i}]`)) };
    return { M: mapValue(value, undefined, path) };
  }
  if (descriptor === 'B') return { B: base64At(value, path) };
  if (descriptor === 'SS' || descriptor === 'NS' || descriptor === 'BS') {
    if (!Array.isArray(value) || value.length === 0)
      throw new Error(`${path}: a ${descriptor} value must be a non-empty array`);
    if (descriptor === 'SS')
      return {
        SS: value.map((v) => {
          if (typeof v !== 'string') throw new Error(`${path}: SS member is not a string`);
          return v;
        }),
      };
    if (descriptor === 'NS')
      return {
        NS: value.map((v) => {
          if (!(v instanceof ExactJsonNumber)) throw new Error(`${path}: NS member is not a number`);
          return v.text;
        }),
      };
    return { BS: value.map((v) => base64At(v, path)) };
  }
  if (descriptor instanceof Map && descriptor.size === 1) {
    const inner = descriptor.get('M') ?? descriptor.get('L');
    if (!(inner instanceof Map)) throw new Error(`${path}: bad type descriptor`);
    if (descriptor.has('M')) {
      if (!(value instanceof Map)) throw new Error(`${path}: descriptor says M but the value is not an object`);
      return { M: mapValue(value, inner, path) };
    }
    if (!Array.isArray(value)) throw new Error(`${path}: descriptor says L but the value is not an array`);
    for (const index of inner.keys())
      if (!/^\d+$/.test(index) || Number(index) >= value.length)
        throw new Error(`${path}: descriptor names element ${index}, which the list does not hold`);
    return { L: value.map((v, i) => toAttributeValue(v, inner.get(String(i)), `${path}[${i}]`)) };
  }
  throw new Error(`${path}: bad type descriptor ${describe(descriptor)}`);
}

function mapValue(
  value: ExactJsonValue,
  descriptors: Map<string, ExactJsonValue> | undefined,
  path: string,
): Record<string, AttributeValue> {
  if (!(value instanceof Map)) throw new Error(`${path}: not an object`);
  const out: Record<string, AttributeValue> = {};
  for (const [key, member] of value)
    setOwn(out, key, toAttributeValue(member, descriptors?.get(key), `${path}.${key}`));
  if (descriptors)
    for (const key of descriptors.keys())
      if (!value.has(key))
        throw new Error(`${path}: descriptor names ${JSON.stringify(key)}, which the map does not hold`);
  return out;
}

/** Assigns an own property, even one named `__proto__` (which plain assignment would turn into a prototype). */
function setOwn(target: Record<string, AttributeValue>, key: string, value: AttributeValue): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function base64At(value: ExactJsonValue, path: string): string {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new Error(`${path}: binary value is not padded base64`);
  return value;
}

function describe(value: ExactJsonValue | undefined): string {
  if (value instanceof ExactJsonNumber) return value.text;
  if (value instanceof Map) return 'an object';
  return JSON.stringify(value) ?? 'missing';
}
