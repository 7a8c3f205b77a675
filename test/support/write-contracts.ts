/**
 * `npm run contracts`: writes the JSON Schema files of the job contract (core/manifest.ts) into
 * core/contracts/, where glue/tests/test_contracts.py reads them. test/unit/contracts.test.ts fails
 * while the committed files differ from what the zod schemas give.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contractSchemas } from '../../core/manifest';
import { REPO_ROOT } from '../../core/toolchain';

export const CONTRACTS_DIR = join(REPO_ROOT, 'core', 'contracts');

export function contractFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(contractSchemas()).map(([name, schema]) => [name, `${JSON.stringify(schema, null, 2)}\n`]),
  );
}

if (require.main === module) {
  for (const [name, text] of Object.entries(contractFiles())) {
    writeFileSync(join(CONTRACTS_DIR, name), text);
    console.log(`wrote core/contracts/${name}`);
  }
}
