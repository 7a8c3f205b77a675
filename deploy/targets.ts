/**
 * From pipeline config files to what one stack deploys (pure: no CDK, no AWS): the pipelines, the
 * buckets their locations name, the Glue jobs they share. Everything a deployment cannot work with
 * is refused here, before synthesis, with a message that names the fix.
 */
import { loadPipelineConfig, type PipelineConfig } from '../core/config';
import { describeError, UserError } from '../core/errors';
import type { JobKind } from '../activities/job-runner';

export interface DeploySettings {
  /** CloudFormation stack name: one stack holds every pipeline of a Temporal namespace's worker. */
  stackName: string;
  /** Name of the Secrets Manager secret with the Temporal connection (docs/aws.md, "Temporal"). */
  temporalSecretName: string;
}

export const DEFAULT_SETTINGS: DeploySettings = { stackName: 'ddb-lake', temporalSecretName: 'ddb-lake/temporal' };

export interface S3Location {
  bucket: string;
  /** Key prefix: '' (the bucket's root) or ending with '/'. */
  prefix: string;
}

export interface PipelineTarget {
  config: PipelineConfig;
  /** The config file, for messages. */
  file: string;
  /** Alphanumeric form of the name (CloudFormation logical ids, parameter names). */
  logicalName: string;
  export: S3Location;
  landing: S3Location;
  lake: S3Location;
}

export interface BucketTarget {
  name: string;
  /** What the bucket holds, e.g. ['landing of transaction', 'lake of transaction']. */
  holds: string[];
  /** One lifecycle rule per landing zone in the bucket: its minute folders expire. */
  expiries: { prefix: string; days: number; pipeline: string }[];
}

export interface JobTarget {
  name: string;
  kind: JobKind;
  workerType: string;
  numberOfWorkers: number;
  /** The longest timeout a pipeline gives the job (the workflow stops a run at its own timeout; Glue's is a backstop). */
  timeoutMinutes: number;
  /** Pipelines that run this job: one concurrent run each. */
  pipelines: string[];
  /** Glue Data Catalog databases the job syncs tables into (lake.glueDatabase), with the tables. */
  catalog: { database: string; table: string }[];
}

export interface DeploymentTargets {
  settings: DeploySettings;
  /**
   * What would stop `deploy` (a lake outside S3, the local stack's bucket): `synth` of a local
   * config still writes a preview template and lists these; `deploy` refuses them.
   */
  previewOnly: string[];
  pipelines: PipelineTarget[];
  buckets: BucketTarget[];
  jobs: JobTarget[];
}

/**
 * Reads and validates the config files; a problem is a UserError naming the file, the field and the
 * fix. With `preview` (synth), what only a deploy cannot work with is collected in `previewOnly`.
 */
export function deploymentTargets(
  files: string[],
  settings: DeploySettings = DEFAULT_SETTINGS,
  options: { preview?: boolean } = {},
): DeploymentTargets {
  if (files.length === 0)
    throw new UserError('no pipeline config given', 'pass --config <file> (once per pipeline of this stack)');
  checkSettings(settings);
  const previewOnly: string[] = [];
  const localOnly = (problem: UserError) => {
    if (!options.preview) throw problem;
    previewOnly.push(describeError(problem).replace('\n  → ', '; '));
  };
  const pipelines = files.map((file) => pipelineTarget(file, loadPipelineConfig(file), localOnly));
  checkDistinct(pipelines);
  const buckets = bucketTargets(pipelines);
  return { settings, pipelines, buckets, jobs: jobTargets(pipelines), previewOnly };
}

function checkSettings(s: DeploySettings): void {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(s.stackName))
    throw new UserError(
      `--stack-name ${s.stackName} is not a CloudFormation stack name`,
      'use letters, digits and "-", starting with a letter',
    );
  if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(s.temporalSecretName))
    throw new UserError(
      `--temporal-secret ${s.temporalSecretName} is not a Secrets Manager secret name`,
      'use letters, digits and /_+=.@-',
    );
}

export function pipelineTarget(
  file: string,
  config: PipelineConfig,
  localOnly: (problem: UserError) => void = (problem) => {
    throw problem;
  },
): PipelineTarget {
  const where = `${file}: pipeline "${config.name}"`;
  // A preview of a local config puts the lake next to the landing zone, as configs/transaction-aws.json does.
  let lake = config.lake.location;
  if (!lake.startsWith('s3://')) {
    localOnly(
      new UserError(
        `${where}: lake.location ${config.lake.location} is not in S3; a deployed pipeline's lake is written by Glue`,
        `set lake.location to s3://<bucket>/lake/${config.name}/ (configs/transaction-aws.json is an example for AWS)`,
      ),
    );
    lake = `s3://${s3Location(config.landing.location).bucket}/lake/${config.name}`;
  }
  if (config.jobs.incremental.engine === 'warm')
    localOnly(
      new UserError(
        `${where}: jobs.incremental.engine "warm" runs on the local stack only; on AWS Glue every batch is a job run`,
        'remove jobs.incremental.engine or set it to "perBatch" (docs/warm-engine.md: the warm Glue engine and what it costs)',
      ),
    );
  for (const [field, uri] of [
    ['export.location', config.export.location],
    ['landing.location', config.landing.location],
    ['lake.location', lake],
  ] as const)
    if (s3Location(uri).bucket === LOCAL_STACK_BUCKET)
      localOnly(
        new UserError(
          `${where}: ${field} names bucket ${LOCAL_STACK_BUCKET}, the local stack's bucket`,
          `name a bucket of your own in ${field} (S3 bucket names are global; configs/transaction-aws.json is an example for AWS)`,
        ),
      );
  const { stalledMinutes } = config.alarms;
  const longestQuiet = Math.max(config.schedule.intervalSeconds, config.retry.maxIntervalSeconds);
  if (stalledMinutes * 60 <= longestQuiet)
    throw new UserError(
      `${where}: alarms.stalledMinutes (${stalledMinutes}) is not longer than the pipeline's longest quiet time (${longestQuiet} s: schedule.intervalSeconds or retry.maxIntervalSeconds)`,
      `raise alarms.stalledMinutes above ${Math.ceil(longestQuiet / 60)}, or the stalled alarm fires between two cycles`,
    );
  return {
    config,
    file,
    logicalName: logicalName(config.name),
    export: s3Location(config.export.location),
    landing: s3Location(config.landing.location),
    lake: s3Location(`${lake}/`),
  };
}

/** The bucket the local stack's poller writes to (stack/poller): never a deployment's. */
export const LOCAL_STACK_BUCKET = 'ddb-lake-local';

export function s3Location(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new UserError(`${uri} is not an S3 location`, 'use s3://bucket/prefix/');
  const prefix = m[2]!;
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

/** `transaction-v2` → `TransactionV2`. */
export function logicalName(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

function checkDistinct(pipelines: PipelineTarget[]): void {
  const seen = new Map<string, PipelineTarget>();
  for (const p of pipelines) {
    const other = seen.get(p.logicalName);
    if (other)
      throw new UserError(
        other.config.name === p.config.name
          ? `pipeline "${p.config.name}" is given twice (${other.file}, ${p.file})`
          : `pipelines "${other.config.name}" and "${p.config.name}" differ only in punctuation, which CloudFormation names cannot tell apart`,
        'give each pipeline of a stack its own name',
      );
    seen.set(p.logicalName, p);
  }
  // Pipelines sharing a landing zone or a lake would mix their tables; anything inside a landing zone
  // would be listed as landing files, and expire with its minute folders. Exports may share a place
  // (each export writes its own AWSDynamoDB/<id>/ folder).
  const places = pipelines.flatMap((p) => [
    { what: `landing.location of "${p.config.name}"`, at: p.landing, exported: false },
    { what: `lake.location of "${p.config.name}"`, at: p.lake, exported: false },
    { what: `export.location of "${p.config.name}"`, at: p.export, exported: true },
  ]);
  for (let i = 0; i < places.length; i++)
    for (let j = i + 1; j < places.length; j++) {
      const a = places[i]!;
      const b = places[j]!;
      if (a.exported && b.exported) continue;
      if (a.at.bucket === b.at.bucket && (a.at.prefix.startsWith(b.at.prefix) || b.at.prefix.startsWith(a.at.prefix)))
        throw new UserError(
          `${a.what} and ${b.what} overlap (s3://${a.at.bucket}/${a.at.prefix}, s3://${b.at.bucket}/${b.at.prefix})`,
          'give each its own prefix',
        );
    }
}

function bucketTargets(pipelines: PipelineTarget[]): BucketTarget[] {
  const buckets = new Map<string, BucketTarget>();
  const bucket = (name: string) => {
    let b = buckets.get(name);
    if (!b) buckets.set(name, (b = { name, holds: [], expiries: [] }));
    return b;
  };
  for (const p of pipelines) {
    const name = p.config.name;
    bucket(p.export.bucket).holds.push(`export of ${name}`);
    const landing = bucket(p.landing.bucket);
    landing.holds.push(`landing zone of ${name}`);
    landing.expiries.push({
      prefix: minuteFoldersPrefix(p.landing.prefix),
      days: p.config.landing.expireAfterDays,
      pipeline: name,
    });
    bucket(p.lake.bucket).holds.push(`lake of ${name}`);
  }
  return [...buckets.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The key prefix of a landing zone's minute folders (`YYYY-MM-DD-HH-MM/`, core/landing.ts): the
 * landing prefix and the millennium's digit. Its reserved folders (`_manifests`, `_rejected`,
 * `_gaps`, …) start with `_` and never match, so manifests, rejects and gap markers stay; nothing
 * else is inside a landing zone (checkDistinct).
 */
export function minuteFoldersPrefix(landingPrefix: string): string {
  return `${landingPrefix}2`;
}

function jobTargets(pipelines: PipelineTarget[]): JobTarget[] {
  const jobs = new Map<string, JobTarget & { owner: string }>();
  for (const p of pipelines)
    for (const kind of ['initialLoad', 'incremental'] as const) {
      const spec = p.config.jobs[kind];
      const name = p.config.name;
      const job = jobs.get(spec.glueJobName);
      const catalog = p.config.lake.glueDatabase
        ? [{ database: p.config.lake.glueDatabase, table: p.config.lake.tableName! }]
        : [];
      if (!job) {
        jobs.set(spec.glueJobName, {
          name: spec.glueJobName,
          kind,
          workerType: spec.workerType,
          numberOfWorkers: spec.numberOfWorkers,
          timeoutMinutes: spec.timeoutMinutes,
          pipelines: [name],
          catalog,
          owner: name,
        });
        continue;
      }
      if (job.kind !== kind)
        throw new UserError(
          `Glue job ${spec.glueJobName} is the ${job.kind} job of "${job.owner}" and the ${kind} job of "${name}"; one job runs one script`,
          `give jobs.${kind}.glueJobName of "${name}" another name`,
        );
      if (job.workerType !== spec.workerType || job.numberOfWorkers !== spec.numberOfWorkers)
        throw new UserError(
          `Glue job ${spec.glueJobName} is shared by "${job.owner}" (${job.workerType} × ${job.numberOfWorkers}) and "${name}" (${spec.workerType} × ${spec.numberOfWorkers}); a job has one size`,
          `give both the same jobs.${kind}.workerType and numberOfWorkers, or "${name}" its own jobs.${kind}.glueJobName`,
        );
      job.pipelines.push(name);
      job.timeoutMinutes = Math.max(job.timeoutMinutes, spec.timeoutMinutes);
      job.catalog.push(...catalog);
    }
  return [...jobs.values()].map(({ owner: _owner, ...job }) => job);
}
