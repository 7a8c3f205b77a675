import type { JobManifest, JobSummary } from '../core/manifest';

/** Writes job manifests and reads run summaries (docs/contracts.md). S3 implementation: activities/sdk/s3-manifest-store.ts. */
export interface ManifestStore {
  /** Write the manifest JSON at `uri`; resolves to the SHA-256 (hex) of the bytes written. */
  write(uri: string, manifest: JobManifest): Promise<string>;
  /** SHA-256 (hex) of the manifest now at `uri`, or null if there is none. */
  digest(uri: string): Promise<string | null>;
  /** The summary a run wrote at `uri`, or null if there is none. */
  readSummary(uri: string): Promise<JobSummary | null>;
}
