import type { LandingFile, LandingLink } from '../core/planner';

/**
 * Lists the landing zone's minute folders in key order (one ListObjectsV2 walk with StartAfter).
 * One S3 implementation (activities/sdk/s3-landing-lister.ts) for AWS and moto.
 */
export interface LandingListing {
  files: LandingFile[];
  /** Chain links seen in the same folders (docs/gaps.md); absent when the writer writes none. */
  links?: LandingLink[];
  /** False when `enough` stopped the walk before the end of the minute folders. */
  complete: boolean;
}

export interface LandingLister {
  /**
   * Files in minute folders after `afterFolder` under `landingUri`. After each page `enough(files)`
   * may stop the walk; the last folder seen is then dropped (a page may have cut it).
   */
  list(landingUri: string, afterFolder: string, enough: (files: LandingFile[]) => boolean): Promise<LandingListing>;
}
