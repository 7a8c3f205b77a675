/**
 * How fast `ddb-lake generate` writes into the running stack's DynamoDB (moto locally):
 * 0. the brief's first batch (7,269 inserts, BatchWriteItem),
 * 1. single writes as fast as allowed, at several concurrency levels (the brief's write mix: 30% note updates,
 *    5% deletes), and
 * 2. a sustained target rate for a while (default 100 writes/s for 30 s): achieved rate, latency.
 * Every figure printed is measured in this run.
 *
 *   node dist/bench/generate-throughput.js [--writes 3000] [--concurrency 1,4,8,16,32]
 *        [--sustain-rate 100] [--sustain-seconds 30]
 */
import './no-sdk-notice';
import { parseArgs } from 'node:util';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../core/aws';
import { resolveEnvironment } from '../core/environment';
import { generateTransactions, type GenerateSummary } from '../tools/generate/generator';
import { ensureTransactionTable } from '../tools/generate/transaction-table';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      writes: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '1,4,8,16,32' },
      'sustain-rate': { type: 'string', default: '100' },
      'sustain-seconds': { type: 'string', default: '30' },
    },
  });
  const writes = Number(values.writes);
  const levels = values.concurrency.split(',').map(Number);
  const sustainRate = Number(values['sustain-rate']);
  const sustainSeconds = Number(values['sustain-seconds']);
  const env = resolveEnvironment();
  const client = new DynamoDBClient(awsClientConfig(env));
  const table = `BenchGenerate-${Date.now()}`;
  console.log(`environment ${env.kind}${env.kind === 'local' ? ` (${env.aws.endpoint})` : ''}, table ${table}`);
  await ensureTransactionTable(client, table);
  try {
    // The brief's first batch: inserts only, as fast as allowed (BatchWriteItem, 25 per request).
    const first = await generateTransactions(client, { table, count: 7269, seed: 'bench-first-batch' });
    console.log(
      `\ninitial batch: ${first.written} inserts in ${first.durationSeconds} s = ${first.ratePerSecond}/s ` +
        `(BatchWriteItem ${first.batchWrites ? 'on' : 'off'}, concurrency ${first.concurrency}, errors ${first.errors})`,
    );
    let keys = first.liveKeys;
    console.log(`\nmax rate: ${writes} writes per level, mix 30% updates, 5% deletes, rest inserts`);
    console.log('concurrency | writes/s | p50 ms | p95 ms | max ms | errors');
    for (const concurrency of levels) {
      const r = await generateTransactions(client, {
        table,
        count: writes,
        concurrency,
        updateRatio: 0.3,
        deleteRatio: 0.05,
        existingKeys: keys,
        seed: `bench-${concurrency}`,
      });
      keys = r.liveKeys;
      console.log(row(concurrency, r));
    }
    console.log(`\nsustained: target ${sustainRate}/s for ${sustainSeconds} s, default concurrency, same mix`);
    const s = await generateTransactions(client, {
      table,
      rate: sustainRate,
      durationSeconds: sustainSeconds,
      updateRatio: 0.3,
      deleteRatio: 0.05,
      existingKeys: keys,
      seed: 'bench-sustained',
    });
    console.log(
      `achieved ${s.ratePerSecond}/s (${s.written} writes in ${s.durationSeconds} s), latency p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms, max ${s.latencyMs.max} ms, errors ${s.errors}`,
    );
  } finally {
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    client.destroy();
  }
}

function row(concurrency: number, r: GenerateSummary): string {
  return [concurrency, r.ratePerSecond, r.latencyMs.p50, r.latencyMs.p95, r.latencyMs.max, r.errors]
    .map((v, i) => String(v).padStart(i === 0 ? 11 : 8))
    .join(' | ');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
