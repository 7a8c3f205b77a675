/**
 * Per-key comparison of a lake with its DynamoDB table, for tests: every item's user attributes
 * against the lake row of the same key (read with hudi-rs through `ddb-lake sql --json`), plus the
 * keys only one side has.
 *
 * A stop-gap: `ddb-lake verify` (being built in parallel) is the product's comparison; once it is
 * merged, tests call it instead and this file goes. It supports what the tests write — attributes
 * of type S, N, BOOL, NULL and B whose names are plain identifiers (so the column is named like the
 * attribute, docs/types.md) — and says so for anything else rather than guessing.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runCli } from './cli';

export interface LakeDifference {
  key: string;
  attribute: string;
  table: unknown;
  lake: unknown;
}

export interface LakeComparison {
  tableItems: number;
  lakeRows: number;
  /** Keys in the table, not in the lake. */
  missing: string[];
  /** Keys in the lake, not in the table. */
  extra: string[];
  /** Same key, some attribute differs (first 20). */
  different: LakeDifference[];
  differentRows: number;
  /** The lake has no row more than once per key. */
  duplicateKeys: string[];
}

export interface CompareRequest {
  dynamodb: DynamoDBClient;
  table: string;
  keyFields: string[];
  lakeLocation: string;
  /** Lake columns that are not attributes (the config's derived columns). */
  derivedColumns?: string[];
  env?: NodeJS.ProcessEnv;
}

export function isEqual(c: LakeComparison): boolean {
  return (
    c.missing.length === 0 &&
    c.extra.length === 0 &&
    c.differentRows === 0 &&
    c.duplicateKeys.length === 0 &&
    c.tableItems === c.lakeRows
  );
}

/** One line per kind of difference, for an assertion message. */
export function describeComparison(c: LakeComparison): string {
  const head = `table ${c.tableItems} items, lake ${c.lakeRows} rows`;
  if (isEqual(c)) return `${head}: equal key by key`;
  return [
    head,
    `missing from the lake: ${c.missing.length} ${c.missing.slice(0, 5).join(', ')}`,
    `extra in the lake: ${c.extra.length} ${c.extra.slice(0, 5).join(', ')}`,
    `duplicate keys in the lake: ${c.duplicateKeys.length} ${c.duplicateKeys.slice(0, 5).join(', ')}`,
    `rows that differ: ${c.differentRows}`,
    ...c.different
      .slice(0, 10)
      .map((d) => `  ${d.key} ${d.attribute}: table ${JSON.stringify(d.table)}, lake ${JSON.stringify(d.lake)}`),
  ].join('\n');
}

export async function compareLakeWithTable(req: CompareRequest): Promise<LakeComparison> {
  const items = await scanAll(req.dynamodb, req.table);
  const rows = await readLake(req.lakeLocation, req.env);
  const derived = new Set(req.derivedColumns ?? []);
  const keyOf = (values: (string | null)[]) => values.map((v) => v ?? '∅').join('|');

  const lake = new Map<string, Record<string, unknown>>();
  const duplicateKeys: string[] = [];
  for (const row of rows) {
    const key = keyOf(req.keyFields.map((f) => (row[f] === null || row[f] === undefined ? null : String(row[f]))));
    if (lake.has(key)) duplicateKeys.push(key);
    lake.set(key, row);
  }
  const userColumns = rows.length
    ? Object.keys(rows[0]!).filter((c) => !c.startsWith('_hoodie_') && !c.startsWith('_ddb_lake_') && !derived.has(c))
    : [];

  const result: LakeComparison = {
    tableItems: items.length,
    lakeRows: rows.length,
    missing: [],
    extra: [],
    different: [],
    differentRows: 0,
    duplicateKeys,
  };
  const seen = new Set<string>();
  for (const item of items) {
    const key = keyOf(req.keyFields.map((f) => keyText(item[f], f)));
    seen.add(key);
    const row = lake.get(key);
    if (!row) {
      result.missing.push(key);
      continue;
    }
    const diffs: LakeDifference[] = [];
    for (const [name, value] of Object.entries(item)) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name))
        throw new Error(
          `attribute "${name}" is not a plain identifier; this helper cannot find its column (use ddb-lake verify)`,
        );
      const expected = lakeValue(value, name);
      if (!sameValue(expected, row[name])) diffs.push({ key, attribute: name, table: expected, lake: row[name] });
    }
    // A column the item has no attribute for must read null (an absent attribute reads as null).
    for (const column of userColumns)
      if (!(column in item) && row[column] !== null && row[column] !== undefined)
        diffs.push({ key, attribute: column, table: null, lake: row[column] });
    if (row._ddb_lake_overflow !== null && row._ddb_lake_overflow !== undefined)
      diffs.push({ key, attribute: '_ddb_lake_overflow', table: null, lake: row._ddb_lake_overflow });
    if (diffs.length) {
      result.differentRows++;
      if (result.different.length < 20) result.different.push(...diffs.slice(0, 20 - result.different.length));
    }
  }
  for (const key of lake.keys()) if (!seen.has(key)) result.extra.push(key);
  return result;
}

async function scanAll(dynamodb: DynamoDBClient, table: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamodb.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

async function readLake(location: string, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>[]> {
  const r = await runCli(['sql', '--lake', location, 'select * from lake', '--json'], env);
  if (r.code !== 0) throw new Error(`ddb-lake sql on ${location} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

function keyText(v: AttributeValue | undefined, name: string): string {
  if (v?.S !== undefined) return v.S;
  if (v?.N !== undefined) return normaliseNumber(v.N);
  throw new Error(`key attribute ${name} is ${v ? Object.keys(v)[0] : 'missing'}; this helper compares S and N keys`);
}

/** The value the lake's JSON output holds for a DynamoDB value (docs/types.md; numbers as normalised text). */
function lakeValue(v: AttributeValue, name: string): unknown {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return { number: normaliseNumber(v.N) };
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL !== undefined) return null;
  if (v.B !== undefined) return Buffer.from(v.B).toString('base64');
  throw new Error(
    `attribute ${name} is of type ${Object.keys(v)[0]}; this helper compares S, N, BOOL, NULL and B (use ddb-lake verify)`,
  );
}

function sameValue(expected: unknown, actual: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && 'number' in expected) {
    if (typeof actual !== 'number' && typeof actual !== 'string') return false;
    return normaliseNumber(String(actual)) === (expected as { number: string }).number;
  }
  if (expected === null) return actual === null || actual === undefined;
  return expected === actual;
}

/** A number's text without changing its value: `0592` → `592`, `1.50` → `1.5`, `1E+3` → `1000`, `-0` → `0`. */
export function normaliseNumber(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) return text;
  const [, sign, int = '', frac = '', exp = '0'] = m;
  let digits = `${int}${frac}`;
  let point = int.length + Number(exp);
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  if (!digits) return '0';
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = `${digits}${'0'.repeat(point - digits.length)}`;
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign === '-' ? '-' : ''}${out}`;
}
