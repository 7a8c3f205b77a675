/**
 * The job contract is defined once (zod, core/manifest.ts); the JSON Schema files the Python side
 * checks against (core/contracts/) must be exactly what those schemas give.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobManifestSchema, parseJobSummary } from '../../core/manifest';
import { CONTRACTS_DIR, contractFiles } from '../support/write-contracts';

describe('job contract', () => {
  test('core/contracts/*.schema.json are generated from core/manifest.ts (else: npm run contracts)', () => {
    for (const [name, text] of Object.entries(contractFiles()))
      assert.equal(
        readFileSync(join(CONTRACTS_DIR, name), 'utf8'),
        text,
        `${name} is stale: run \`npm run contracts\``,
      );
  });

  test('a manifest with an unknown field is refused, naming it', () => {
    const r = JobManifestSchema.safeParse({ version: 1, runKey: 'p-1', surprise: true });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error?.issues), /surprise/);
  });

  test('a summary that breaks the contract is refused with the field and where it came from', () => {
    assert.throws(
      () =>
        parseJobSummary({ runKey: 'p-1', kind: 'incremental', status: 'succeeded', recordsRead: -1 }, 's3://b/x.json'),
      /the job summary s3:\/\/b\/x\.json does not follow the contract .*recordsRead/,
    );
  });
});
