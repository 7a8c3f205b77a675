/** `<state>/esm/mappings.json`: `{ "<table>": "s3://bucket/prefix/" }`, landing locations that differ from the default. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../core/errors';
import { handlerConfig } from '../../lambda/handler';

export function mappingsPath(esmDir: string): string {
  return join(esmDir, 'mappings.json');
}

export async function readLandingMappings(esmDir: string): Promise<Record<string, string>> {
  const file = mappingsPath(esmDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `${file} is not valid JSON: ${(err as Error).message}`,
      'write it as {"<table>": "s3://bucket/prefix/"}',
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UserError(`${file} must be a JSON object`, 'write it as {"<table>": "s3://bucket/prefix/"}');
  const out: Record<string, string> = {};
  for (const [table, landing] of Object.entries(raw)) {
    if (typeof landing !== 'string')
      throw new UserError(
        `${file}: the landing of table ${table} must be a string`,
        'write it as {"<table>": "s3://bucket/prefix/"}',
      );
    handlerConfig(
      { landing, maxWriteSeconds: undefined },
      { landing: `${file}: the landing of table ${table}`, maxWriteSeconds: '' },
    );
    out[table] = landing;
  }
  return out;
}
