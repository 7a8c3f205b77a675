/**
 * In-memory stand-ins for the external parts (table, export, landing zone, manifests, jobs), for
 * tests about the workflow's logic. The activities themselves are the real ones.
 */
import type { Exporter, ExportRequest, ExportState } from '../../activities/exporter';
import type { JobRef, JobRunner, JobRunRequest, JobRunState, JobSpec } from '../../activities/job-runner';
import type { GapMarkerEntry, LandingAudit } from '../../activities/landing-audit';
import type { LandingLister, LandingListing } from '../../activities/landing-lister';
import { NoMetrics } from '../../activities/local/no-metrics';
import type { ManifestStore } from '../../activities/manifest-store';
import type { PipelineServices } from '../../activities/services';
import type { TableDescription, TableInspector } from '../../activities/table-inspector';
import { createHash } from 'node:crypto';
import { minuteFolder } from '../../core/landing';
import type { JobManifest, JobSummary } from '../../core/manifest';
import { completeFoldersOnly, type LandingFile } from '../../core/planner';
import { parsePipelineConfig, type PipelineConfig, type PipelineConfigInput } from '../../core/config';

/** A clock the test moves by hand (the planner's idea of "now"). */
export class FakeClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const EXPORT_TIME_MS = Date.UTC(2026, 10, 27, 11, 0, 0);

export function testConfig(overrides: Partial<PipelineConfigInput> = {}): PipelineConfig {
  return parsePipelineConfig(
    {
      name: 'transaction',
      table: 'Transaction',
      orderingField: 'update_at',
      export: { location: 's3://ddb-lake-local/export/Transaction/', pollIntervalSeconds: 1 },
      landing: { location: 's3://ddb-lake-local/landing/Transaction/', closeAfterSeconds: 120, sweepEveryCycles: 1000 },
      lake: { location: '/tmp/ddb-lake-test-lake' },
      jobs: {
        initialLoad: { pollIntervalSeconds: 1 },
        incremental: { pollIntervalSeconds: 1 },
      },
      schedule: { intervalSeconds: 1 },
      retry: { maxAttempts: 3, initialIntervalSeconds: 1, maxIntervalSeconds: 2 },
      ...overrides,
    },
    'test config',
  );
}

export class FakeInspector implements TableInspector {
  table: TableDescription | null = {
    tableName: 'Transaction',
    tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Transaction',
    status: 'ACTIVE',
    keySchema: [
      { attributeName: 'account', keyType: 'HASH' },
      { attributeName: 'create_at', keyType: 'RANGE' },
    ],
    streamViewType: 'NEW_AND_OLD_IMAGES',
    streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Transaction/stream/x',
    pointInTimeRecovery: true,
  };
  calls = 0;
  async describeTable(): Promise<TableDescription | null> {
    this.calls++;
    return this.table;
  }
  async bucketProblem(): Promise<string | null> {
    return null;
  }
}

export class FakeExporter implements Exporter {
  starts: ExportRequest[] = [];
  /** How many describes report IN_PROGRESS before COMPLETED. */
  pollsBeforeDone = 1;
  private describes = 0;
  /** The point in time of exports started from now on (a rebackfill's export comes later). */
  constructor(public exportTimeMs = EXPORT_TIME_MS) {}
  /** Exports started with a client token ending in one of these end FAILED. */
  failTokenSuffixes: string[] = [];
  async start(request: ExportRequest): Promise<ExportState> {
    this.starts.push(request);
    return this.state(request.clientToken, 'IN_PROGRESS');
  }
  async describe(exportArn: string): Promise<ExportState> {
    this.describes++;
    const id = exportArn.split('/').pop()!;
    if (this.failTokenSuffixes.some((sfx) => id.endsWith(sfx)))
      return { ...this.state(id, 'FAILED'), failure: 'S3 access denied (simulated)' };
    return this.state(id, this.describes > this.pollsBeforeDone ? 'COMPLETED' : 'IN_PROGRESS');
  }
  private state(id: string, status: ExportState['status']): ExportState {
    return {
      exportArn: `arn:aws:dynamodb:us-east-1:123456789012:table/Transaction/export/${id}`,
      status,
      tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Transaction',
      exportTimeMs: this.exportTimeMs,
      startTimeMs: this.exportTimeMs,
      endTimeMs: status === 'COMPLETED' ? this.exportTimeMs + 1000 : null,
      bucket: 'ddb-lake-local',
      prefix: 'export/Transaction',
      manifestSummaryKey:
        status === 'COMPLETED' ? 'export/Transaction/AWSDynamoDB/01796468400000-abcdef01/manifest-summary.json' : null,
      itemCount: status === 'COMPLETED' ? 7269 : null,
      failure: null,
    };
  }
}

/** The landing zone and the manifests, in memory. Files get `LastModified` from the clock. */
export class FakeLanding implements LandingLister, ManifestStore, LandingAudit {
  readonly files: LandingFile[] = [];
  /** Gap markers a writer left (docs/gaps.md). */
  readonly markers: GapMarkerEntry[] = [];
  readonly objects = new Map<string, string>();
  listCalls = 0;
  constructor(private readonly clock: FakeClock) {}

  /** Write a landing file into the folder of the clock's minute (or the given folder). */
  add(name: string, folder = minuteFolder(this.clock.now())): string {
    this.files.push({ folder, name, lastModifiedMs: this.clock.now(), size: 100 });
    this.files.sort((a, b) => (a.folder === b.folder ? (a.name < b.name ? -1 : 1) : a.folder < b.folder ? -1 : 1));
    return `${folder}/${name}`;
  }

  async list(
    _landingUri: string,
    afterFolder: string,
    enough: (files: LandingFile[]) => boolean,
  ): Promise<LandingListing> {
    this.listCalls++;
    const after = this.files.filter((f) => f.folder > afterFolder);
    // Pages of 3 files, so "enough" is exercised.
    for (let i = 3; i < after.length; i += 3) {
      const seen = after.slice(0, i);
      if (enough(seen)) return { files: completeFoldersOnly(seen), complete: false };
    }
    return { files: after.map((f) => ({ ...f })), complete: true };
  }

  async gapMarkers(_landingUri: string, fromMs: number): Promise<GapMarkerEntry[]> {
    return this.markers.filter((m) => m.detectedAtMs >= fromMs);
  }
  /** Records of discarded batches in the on-failure destination (docs/gaps.md "On AWS"). */
  readonly discarded: GapMarkerEntry[] = [];
  async discardedBatches(_destinationUri: string, _tableArn: string, fromMs: number): Promise<GapMarkerEntry[]> {
    return this.discarded.filter((m) => m.detectedAtMs >= fromMs);
  }
  async claimedKey(): Promise<string | null> {
    return null;
  }
  async exists(_landingUri: string, key: string): Promise<boolean> {
    return this.files.some((f) => `${f.folder}/${f.name}` === key);
  }

  async write(uri: string, manifest: JobManifest): Promise<string> {
    const text = JSON.stringify(manifest);
    this.objects.set(uri, text);
    return sha(text);
  }
  async digest(uri: string): Promise<string | null> {
    const text = this.objects.get(uri);
    return text === undefined ? null : sha(text);
  }
  async readSummary(uri: string): Promise<JobSummary | null> {
    const text = this.objects.get(uri);
    return text === undefined ? null : (JSON.parse(text) as JobSummary);
  }
  manifest(uri: string): JobManifest {
    return JSON.parse(this.objects.get(uri)!) as JobManifest;
  }
}

export interface FakeRun {
  job: JobSpec;
  request: JobRunRequest;
  state: JobRunState;
  startedMs: number;
  endedMs: number | null;
  files: string[];
}

/** Where a fake job reads its manifest and writes its summary. */
export interface JobIo {
  readManifest(uri: string): Promise<JobManifest>;
  writeSummary(uri: string, summary: JobSummary): Promise<void>;
}

/**
 * Fake-fast jobs: they read the real manifest, take `durationMs`, succeed unless told to fail, and
 * write a summary like the Glue jobs do (counts derived from the file count).
 */
export class FakeJobRunner implements JobRunner {
  readonly runs = new Map<string, FakeRun>();
  durationMs = 200;
  /** Fail this many of the next ingest runs. */
  failNext = 0;
  /** Fail this many of the next compaction / cleaning runs. */
  failNextMaintenance = 0;
  failMessage = 'Py4JJavaError: simulated job failure';
  starts = 0;
  /** The fake table's timeline: delta commits since its last compaction, commits since its last clean. */
  deltaCommitsSinceCompaction = 0;
  maintenanceRuns: { runKey: string; compact: boolean; clean: boolean }[] = [];
  constructor(private readonly io: JobIo) {}

  async start(job: JobSpec, request: JobRunRequest): Promise<JobRunState> {
    const existing = this.runs.get(request.runKey);
    if (existing) return { ...existing.state };
    this.starts++;
    const manifest = await this.io.readManifest(request.manifestUri);
    const again = this.runs.get(request.runKey);
    if (again) return { ...again.state };
    const maintenance = manifest.kind === 'compaction';
    const fail = maintenance ? this.failNextMaintenance > 0 : this.failNext > 0;
    if (fail && maintenance) this.failNextMaintenance--;
    else if (fail) this.failNext--;
    const run: FakeRun = {
      job,
      request,
      state: {
        runKey: request.runKey,
        runId: `run-${this.runs.size + 1}`,
        status: 'running',
        startedAt: new Date().toISOString(),
      },
      startedMs: Date.now(),
      endedMs: null,
      files: manifest.files,
    };
    this.runs.set(request.runKey, run);
    setTimeout(() => {
      void (async () => {
        if (run.state.status !== 'running') return;
        const finishedAt = new Date().toISOString();
        if (!fail) {
          // Like the Glue jobs: the summary is written before the run reports success.
          const summary: JobSummary = {
            runKey: request.runKey,
            kind: manifest.kind,
            status: 'succeeded',
            recordsRead: manifest.files.length * 10,
            upserted: manifest.files.length * 9,
            deleted: manifest.files.length,
            rejected: 0,
            durationSeconds: this.durationMs / 1000,
            commitInstant: '20261127110501234',
            startedAt: run.state.startedAt,
            finishedAt,
            ...this.tableFigures(manifest),
          };
          await this.io.writeSummary(manifest.summaryUri, summary);
        }
        if (run.state.status !== 'running') return;
        run.endedMs = Date.now();
        run.state = {
          ...run.state,
          status: fail ? 'failed' : 'succeeded',
          finishedAt,
          ...(fail ? { error: this.failMessage } : {}),
        };
      })().catch((err) => console.error('fake job: cannot finish', err));
    }, this.durationMs);
    return { ...run.state };
  }
  /** What a job of this manifest reports of the table (docs/table-types.md), like the real jobs. */
  private tableFigures(manifest: JobManifest): Partial<JobSummary> {
    const tableType = manifest.table.tableType ?? 'COPY_ON_WRITE';
    if (manifest.kind === 'compaction') {
      const spec = manifest.compaction!;
      this.maintenanceRuns.push({ runKey: manifest.runKey, compact: spec.compact, clean: spec.clean });
      if (spec.compact) this.deltaCommitsSinceCompaction = 0;
      return {
        commitInstant: null,
        compactionInstant: spec.compact ? '20261127110502345' : null,
        fileGroupsCompacted: spec.compact ? 1 : 0,
        cleanInstant: '20261127110503456',
        filesCleaned: 2,
      };
    }
    if (manifest.kind === 'initialLoad') this.deltaCommitsSinceCompaction = 0;
    else if (tableType === 'MERGE_ON_READ') this.deltaCommitsSinceCompaction++;
    return tableType === 'MERGE_ON_READ'
      ? {
          tableType,
          deltaCommitsSinceCompaction: this.deltaCommitsSinceCompaction,
          logBytesSinceCompaction: 4096 * this.deltaCommitsSinceCompaction,
        }
      : { tableType };
  }

  async get(_job: JobRef, runKey: string): Promise<JobRunState> {
    return { ...this.runs.get(runKey)!.state };
  }
  async stop(_job: JobRef, runKey: string): Promise<void> {
    const run = this.runs.get(runKey);
    if (run && run.state.status === 'running') {
      run.endedMs = Date.now();
      run.state = { ...run.state, status: 'stopped', finishedAt: new Date().toISOString() };
    }
  }
  async listRunning(job: JobRef): Promise<JobRunState[]> {
    return [...this.runs.values()]
      .filter((r) => r.job.kind === job.kind && r.state.status === 'running')
      .map((r) => ({ ...r.state }));
  }

  /** Files applied by succeeded runs, in run order. */
  appliedFiles(): string[] {
    return [...this.runs.values()].filter((r) => r.state.status === 'succeeded').flatMap((r) => r.files);
  }
  /** Pairs of runs whose lifetimes overlapped. */
  overlaps(): [string, string][] {
    const runs = [...this.runs.values()];
    const out: [string, string][] = [];
    for (let i = 0; i < runs.length; i++)
      for (let j = i + 1; j < runs.length; j++) {
        const a = runs[i]!;
        const b = runs[j]!;
        const aEnd = a.endedMs ?? Infinity;
        const bEnd = b.endedMs ?? Infinity;
        if (a.startedMs < bEnd && b.startedMs < aEnd) out.push([a.request.runKey, b.request.runKey]);
      }
    return out;
  }
}

export interface Fakes {
  clock: FakeClock;
  inspector: FakeInspector;
  exporter: FakeExporter;
  landing: FakeLanding;
  jobs: FakeJobRunner;
  services: PipelineServices;
}

export function createFakes(startMs = EXPORT_TIME_MS + 30_000): Fakes {
  const clock = new FakeClock(startMs);
  const inspector = new FakeInspector();
  const exporter = new FakeExporter();
  const landing = new FakeLanding(clock);
  const jobs = new FakeJobRunner({
    readManifest: async (uri) => landing.manifest(uri),
    writeSummary: async (uri, summary) => void landing.objects.set(uri, JSON.stringify(summary)),
  });
  return {
    clock,
    inspector,
    exporter,
    landing,
    jobs,
    services: {
      inspector,
      exporter,
      lister: landing,
      audit: landing,
      manifests: landing,
      jobRunner: jobs,
      metrics: new NoMetrics(),
    },
  };
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
