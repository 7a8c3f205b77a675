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
  /** What the key names, for messages: `marker` (default) or `on-failure record`. */
  evidence?: string;
}

export interface LandingAudit {
  /** Gap markers under `<landing>/_gaps/` detected at or after `fromMs`, oldest first. */
  gapMarkers(landingUri: string, fromMs: number): Promise<GapMarkerEntry[]>;
  /** The claim of a batch (`<landing>/_batches/<id>`): the key it names, or null when there is none. */
  claimedKey(landingUri: string, batchId: string): Promise<string | null>;
  /**
   * Records of this table's stream batches that Lambda's event source mapping discarded, in its S3
   * on-failure destination (`s3://<bucket>/`; activities/sdk/lambda-on-failure.ts), written at or
   * after `fromMs`, oldest first, as `discarded` markers (`marker` null: an object there that is not
   * a DynamoDB stream record).
   */
  discardedBatches(destinationUri: string, tableArn: string, fromMs: number): Promise<GapMarkerEntry[]>;
  /** Whether an object exists under the landing location (`relativeKey` after its prefix). */
  exists(landingUri: string, relativeKey: string): Promise<boolean>;
}
