/**
 * DynamoDB attribute values in the shape Lambda delivers them (binary as base64 text), converted
 * from the AWS SDK's shape (binary as bytes), and compared by value (numbers by value, sets as sets).
 */
import type { AttributeValue } from 'aws-lambda';
import { canonicalNumber } from './encoding';

/** The SDK's AttributeValue (client-dynamodb and client-dynamodb-streams share this shape). */
export interface SdkAttributeValue {
  S?: string;
  N?: string;
  B?: Uint8Array;
  SS?: string[];
  NS?: string[];
  BS?: Uint8Array[];
  M?: Record<string, SdkAttributeValue>;
  L?: SdkAttributeValue[];
  NULL?: boolean;
  BOOL?: boolean;
  $unknown?: [string, unknown];
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** SDK shape → Lambda event shape. An unknown member is passed through for the handler to reject. */
export function toLambdaAttributeValue(value: SdkAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaItem(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.$unknown) return { [value.$unknown[0]]: value.$unknown[1] } as unknown as AttributeValue;
  return {} as AttributeValue;
}

export function toLambdaItem(item: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = toLambdaAttributeValue(v);
  return out;
}

/** The first difference between two items, as a path and a reason; undefined when they are equal. */
export function itemDifference(
  a: Record<string, AttributeValue>,
  b: Record<string, AttributeValue>,
  path = '',
): string | undefined {
  const keysA = Object.keys(a).sort();
  const keysB = Object.keys(b).sort();
  if (keysA.join('\u0000') !== keysB.join('\u0000'))
    return `${path || 'item'}: attributes [${keysA.join(',')}] ≠ [${keysB.join(',')}]`;
  for (const k of keysA) {
    const d = valueDifference(a[k]!, b[k]!, path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return undefined;
}

export function valueDifference(a: AttributeValue, b: AttributeValue, path: string): string | undefined {
  const [ta, va] = member(a);
  const [tb, vb] = member(b);
  if (ta !== tb) return `${path}: type ${ta} ≠ ${tb}`;
  const show = (v: unknown) => JSON.stringify(v);
  switch (ta) {
    case 'N':
      return canonicalNumber(va as string) === canonicalNumber(vb as string)
        ? undefined
        : `${path}: ${show(va)} ≠ ${show(vb)}`;
    case 'NS':
    case 'SS':
    case 'BS': {
      const norm = (s: string[]) => s.map((x) => (ta === 'NS' ? canonicalNumber(x) : x)).sort();
      return show(norm(va as string[])) === show(norm(vb as string[]))
        ? undefined
        : `${path}: ${show(va)} ≠ ${show(vb)}`;
    }
    case 'M':
      return itemDifference(va as Record<string, AttributeValue>, vb as Record<string, AttributeValue>, path);
    case 'L': {
      const la = va as AttributeValue[];
      const lb = vb as AttributeValue[];
      if (la.length !== lb.length) return `${path}: list of ${la.length} ≠ list of ${lb.length}`;
      for (let i = 0; i < la.length; i++) {
        const d = valueDifference(la[i]!, lb[i]!, `${path}[${i}]`);
        if (d) return d;
      }
      return undefined;
    }
    default:
      return va === vb ? undefined : `${path}: ${show(va)} ≠ ${show(vb)}`;
  }
}

function member(v: AttributeValue): [string, unknown] {
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  if (entries.length !== 1) throw new Error(`not an attribute value: ${JSON.stringify(v)}`);
  return entries[0]!;
}
