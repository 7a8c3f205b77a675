import type { GapMarker } from '../core/landing';

/**
 * What the planner reads besides the minute folders to prove it has seen every change
 * (docs/gaps.md): gap markers, batch claims, dead letters. S3 implementation (AWS and moto):
 * activities/sdk/s3-landing-audit.ts.
 */
export interface GapMarkerEntry {
  key: string;
  /** Detection time from the key (the marker's name starts with it). */
  detectedAtMs: number;
  /** The marker's content; null when it is not a ddb-lake marker (any object there is a gap). */
  marker: GapMarker | null;
}

export interface LandingAudit {
  /** Gap markers under `<landing>/_gaps/` detected at or after `fromMs`, oldest first. */
  gapMarkers(landingUri: string, fromMs: number): Promise<GapMarkerEntry[]>;
  /** The claim of a batch (`<landing>/_batches/<id>`): the key it names, or null when there is none. */
  claimedKey(landingUri: string, batchId: string): Promise<string | null>;
  /** Whether an object exists under the landing location (`relativeKey` after its prefix). */
  exists(landingUri: string, relativeKey: string): Promise<boolean>;
}
