/** What every fault of a chaos run shares: its context, its outcome, waiting that an interruption ends. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../../core/config';
import type { LocalEnvironment } from '../../core/environment';
import { pollFor } from '../../core/process';
import type { PipelineClient, StatusDocument } from '../../client/pipeline-client';
import type { Toolchain } from '../../stack/setup';
import type { StackOptions } from '../../stack/options';
import type { HiddenItemWriter } from './landing-faults';
import type { FaultKind } from './schedule';

export interface FaultContext {
  env: LocalEnvironment;
  stackOptions: StackOptions;
  toolchain: Toolchain;
  config: PipelineConfig;
  client: PipelineClient;
  s3: S3Client;
  hidden: HiddenItemWriter;
  /** Progress lines. */
  say: (line: string) => void;
  signal: AbortSignal;
}

export interface FaultOutcome {
  kind: FaultKind;
  occurrence: number;
  startedAt: string;
  seconds: number;
  /** Did the pipeline show it recovered within the bounds of the fault's wait? */
  recovered: boolean;
  detail: string;
  /** bad-lines: lines the jobs must reject. */
  badLines?: number;
  /** late-file / bad-lines: valid changes landed by hand (present in the table, not in its stream). */
  handLanded?: number;
  /** late-file: when the late file was written (the sweep must list after it). */
  lateFileAtMs?: number;
}

export class Interrupted extends Error {}

/** pollFor, ended by the run's interruption. */
export function waitFor<T>(
  ctx: FaultContext,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  everyMs = 500,
): Promise<T | undefined> {
  return pollFor(
    () => {
      if (ctx.signal.aborted) throw new Interrupted('interrupted');
      return probe();
    },
    { timeoutMs, everyMs },
  );
}

/** The pipeline's status, or undefined while Temporal or the worker cannot answer. */
export async function statusOrNothing(ctx: FaultContext): Promise<StatusDocument | undefined> {
  try {
    return await ctx.client.status(ctx.config.name);
  } catch {
    return undefined;
  }
}

/** A job of this pipeline that began after `sinceMs` has succeeded: Temporal, worker and runner all work. */
export async function aJobSucceededSince(
  ctx: FaultContext,
  sinceMs: number,
  timeoutMs: number,
): Promise<number | undefined> {
  return waitFor(
    ctx,
    timeoutMs,
    async () => {
      const s = await statusOrNothing(ctx);
      const run = s?.lastRuns?.find((r) => r.status === 'succeeded' && Date.parse(r.startedAt) >= sinceMs);
      return run ? Date.now() : undefined;
    },
    1000,
  );
}

export function secondsSince(ms: number): string {
  return ((Date.now() - ms) / 1000).toFixed(1);
}
