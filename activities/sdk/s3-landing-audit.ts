import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../core/s3-uri';
import { batchClaimKey, landingKeyPrefix, LANDING_RESERVED, type GapMarker } from '../../core/landing';
import type { GapMarkerEntry, LandingAudit } from '../landing-audit';
import { ON_FAILURE_PREFIX, onFailureKeyTime, onFailureMarker } from './lambda-on-failure';
import { isNotFound, readBody } from './s3';

export class S3LandingAudit implements LandingAudit {
  constructor(private readonly s3: S3Client) {}

  async gapMarkers(landingUri: string, fromMs: number): Promise<GapMarkerEntry[]> {
    const { bucket, prefix } = location(landingUri);
    const base = `${prefix}${LANDING_RESERVED.gaps}/`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: base,
          StartAfter: token ? undefined : `${base}${String(Math.max(0, fromMs - 1)).padStart(13, '0')}~`,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const out: GapMarkerEntry[] = [];
    for (const key of keys) {
      const m = /^(\d{13})-/.exec(key.slice(base.length));
      const detectedAtMs = m ? Number(m[1]) : fromMs;
      if (detectedAtMs < fromMs) continue;
      let marker: GapMarker | null = null;
      try {
        const body = await readBody((await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
        const parsed = JSON.parse(body.toString('utf8')) as GapMarker;
        if (parsed && typeof parsed.reason === 'string' && typeof parsed.kind === 'string') marker = parsed;
      } catch (err) {
        if (isNotFound(err)) continue;
        if (!(err instanceof SyntaxError)) throw err;
      }
      out.push({ key: `s3://${bucket}/${key}`, detectedAtMs, marker });
    }
    return out;
  }

  async discardedBatches(destinationUri: string, tableArn: string, fromMs: number): Promise<GapMarkerEntry[]> {
    const { bucket } = parseS3Uri(destinationUri);
    const keys: { key: string; atMs: number | undefined }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: ON_FAILURE_PREFIX, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) keys.push({ key: o.Key!, atMs: onFailureKeyTime(o.Key!) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const out: GapMarkerEntry[] = [];
    // Keys name the second Lambda gave up: older ones are covered by the export without being read.
    for (const { key, atMs } of keys) {
      if (atMs !== undefined && atMs + 1000 <= fromMs) continue;
      let record: unknown = null;
      try {
        const body = await readBody((await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
        record = JSON.parse(body.toString('utf8'));
      } catch (err) {
        if (isNotFound(err)) continue;
        if (!(err instanceof SyntaxError)) throw err;
      }
      const marker = onFailureMarker(record, tableArn);
      if (marker === undefined) continue; // another table's stream
      const detectedAtMs = marker ? Date.parse(marker.detectedAt) : (atMs ?? fromMs);
      if (detectedAtMs < fromMs) continue;
      out.push({ key: `s3://${bucket}/${key}`, detectedAtMs, marker, evidence: 'on-failure record' });
    }
    return out.sort((a, b) => a.detectedAtMs - b.detectedAtMs);
  }

  async claimedKey(landingUri: string, batchId: string): Promise<string | null> {
    const { bucket, prefix } = location(landingUri);
    try {
      const body = await readBody(
        (await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: batchClaimKey(prefix, batchId) }))).Body,
      );
      const claim = JSON.parse(body.toString('utf8')) as { key?: unknown };
      return typeof claim.key === 'string' ? claim.key.slice(prefix.length) : null;
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  async exists(landingUri: string, relativeKey: string): Promise<boolean> {
    const { bucket, prefix } = location(landingUri);
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${relativeKey}` }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

function location(landingUri: string): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri(landingUri.endsWith('/') ? landingUri : `${landingUri}/`);
  return { bucket, prefix: landingKeyPrefix(key) };
}
