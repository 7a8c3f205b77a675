/**
 * The sustained rate (bench/freshness.ts `--steps`): writes at rising rates, a fixed time each, and
 * reads the pipeline's lag (`status`: now − the listing time of the last applied batch) every
 * second. A rate is sustained when the worst lag of the step's last 30 s is no larger than the
 * worst lag around its 30th second (15-45 s), plus 2 s (one cycle interval): the pipeline keeps up
 * instead of falling further behind. Windows, not single samples: the lag is a sawtooth.
 *
 * Two feeds: `stream` writes to the table through moto (DynamoDB → stream → poller → Lambda handler
 * → landing files), `landing` writes landing files straight into the landing zone (the handler's own
 * encoding, one file every 250 ms as the poller would), to measure the pipeline past moto.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBRecord } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineConfig } from '../core/config';
import { minuteFolder } from '../core/landing';
import type { PipelineClient } from '../client/pipeline-client';
import { generateTransactions } from '../tools/generate/generator';
import { insertRecord, putLandingFile } from '../tools/chaos/landing-faults';
import { SeededRandom } from '../tools/generate/random';
import { MicrosecondClock, randomTransactionValues } from '../tools/generate/transaction-model';
import type { TransactionKey } from '../tools/generate/transaction-model';

export type Feed = 'stream' | 'landing';

export interface StepResult {
  rate: number;
  feed: Feed;
  written: number;
  /** Changes per second the feed reached (below `rate`: the feed itself is the limit). */
  achievedRate: number;
  lagAt30s: number | null;
  lagAtEnd: number | null;
  maxLag: number | null;
  sustained: boolean;
}

export interface StepsInput {
  client: PipelineClient;
  config: PipelineConfig;
  ddb: DynamoDBClient;
  s3: S3Client;
  streamArn: string;
  feed: Feed;
  rates: number[];
  stepSeconds: number;
  updateRatio: number;
  deleteRatio: number;
  existingKeys: readonly TransactionKey[];
  progress: (line: string) => void;
}

const TOLERANCE_SECONDS = 2;

export async function runRateSteps(input: StepsInput): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const rate of input.rates) {
    const started = Date.now();
    const lags: { at: number; lag: number }[] = [];
    let written = 0;
    let writing = true;
    const sampler = (async () => {
      while (writing) {
        const lag = await input.client
          .status(input.config.name)
          .then((s) => s.lagSeconds)
          .catch(() => null);
        if (lag !== null) lags.push({ at: Date.now() - started, lag });
        input.progress(
          `  step ${rate}/s (${input.feed}): ${Math.round((Date.now() - started) / 1000)}/${input.stepSeconds} s · written ${written} · lag ${lag ?? '?'} s`,
        );
        await sleep(1000);
      }
    })();
    if (input.feed === 'stream') {
      const r = await generateTransactions(input.ddb, {
        table: input.config.table,
        durationSeconds: input.stepSeconds,
        rate,
        updateRatio: input.updateRatio,
        deleteRatio: input.deleteRatio,
        seed: `bench-step-${rate}`,
        existingKeys: input.existingKeys,
        concurrency: Math.min(32, Math.max(8, Math.ceil(rate / 50))),
        onProgress: (p) => (written = p.written),
      });
      written = r.written;
    } else {
      written = await feedLanding(input, rate, (n) => (written = n));
    }
    writing = false;
    await sampler;
    const seconds = (Date.now() - started) / 1000;
    // The lag is a sawtooth (one tooth per batch): compare the worst of a window, not single samples.
    const end = Date.now() - started;
    const at30 = maxIn(lags, 15_000, 45_000);
    const atEnd = maxIn(lags, end - 30_000, end);
    results.push({
      rate,
      feed: input.feed,
      written,
      achievedRate: Math.round(written / seconds),
      lagAt30s: at30,
      lagAtEnd: atEnd,
      maxLag: lags.length ? Math.max(...lags.map((l) => l.lag)) : null,
      sustained: at30 !== null && atEnd !== null && atEnd <= at30 + TOLERANCE_SECONDS,
    });
  }
  return results;
}

function maxIn(lags: { at: number; lag: number }[], fromMs: number, toMs: number): number | null {
  const inside = lags.filter((l) => l.at >= fromMs && l.at <= toMs).map((l) => l.lag);
  return inside.length ? Math.max(...inside) : null;
}

/** Inserts of fresh keys, `rate` a second, landed as one handler-encoded file every 250 ms. */
async function feedLanding(input: StepsInput, rate: number, onWritten: (n: number) => void): Promise<number> {
  const rng = new SeededRandom(`bench-landing-${rate}`);
  const clock = new MicrosecondClock();
  const end = Date.now() + input.stepSeconds * 1000;
  let written = 0;
  let sequence = 0n;
  const perTick = rate / 4;
  let due = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    due += perTick;
    const n = Math.floor(due);
    due -= n;
    const records: DynamoDBRecord[] = [];
    for (let i = 0; i < n; i++) {
      const at = clock.nowTimestamp();
      const item = { ...randomTransactionValues(rng), create_at: at, update_at: at };
      sequence += 1n;
      records.push(
        insertRecord(
          item,
          input.streamArn,
          `8${String(Date.now()).padStart(15, '0')}${String(sequence).padStart(8, '0')}`,
        ),
      );
    }
    if (records.length) {
      await putLandingFile(input.s3, input.config.landing.location, minuteFolder(Date.now()), records);
      written += records.length;
      onWritten(written);
    }
    await sleep(Math.max(0, 250 - (Date.now() - tick)));
  }
  return written;
}

/** The highest rate of a run of sustained steps from the lowest (a later lucky step does not count). */
export function sustainedRate(results: StepResult[]): number | null {
  let best: number | null = null;
  for (const r of [...results].sort((a, b) => a.rate - b.rate)) {
    if (!r.sustained) break;
    best = r.rate;
  }
  return best;
}

export function describeSteps(results: StepResult[]): string {
  const out = ['', 'sustained rate (lag = now − listing time of the last applied batch):'];
  out.push(
    '  rate/s  feed     written  achieved/s  lag@30s  lag@end  max lag  sustained   (lag@: the worst lag of 15-45 s / of the last 30 s)',
  );
  for (const r of results)
    out.push(
      `  ${String(r.rate).padStart(6)}  ${r.feed.padEnd(7)}  ${String(r.written).padStart(7)}  ${String(r.achievedRate).padStart(10)}  ${fmt(r.lagAt30s)}  ${fmt(r.lagAtEnd)}  ${fmt(r.maxLag)}  ${r.sustained ? 'yes' : 'no'}${r.achievedRate < r.rate * 0.9 ? `  (the ${r.feed === 'stream' ? 'writer into moto' : 'landing feed'} reached only ${r.achievedRate}/s)` : ''}`,
    );
  const best = sustainedRate(results);
  out.push(
    `sustained: ${best === null ? 'none of the rates' : `${best} changes/s`} (lag at the end ≤ lag after 30 s + ${TOLERANCE_SECONDS} s)`,
  );
  return `${out.join('\n')}\n`;
}

function fmt(x: number | null): string {
  return (x === null ? '—' : `${x.toFixed(1)} s`).padStart(7);
}
