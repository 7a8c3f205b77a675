import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../core/aws';
import { parseJobSummary, type JobManifest, type JobSummary } from '../../core/manifest';
import type { ManifestStore } from '../manifest-store';
import { isNotFound, readBody } from './s3';

export class S3ManifestStore implements ManifestStore {
  constructor(private readonly s3: S3Client) {}

  async write(uri: string, manifest: JobManifest): Promise<string> {
    const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    const { bucket, key } = parseS3Uri(uri);
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
    return sha256(body);
  }

  async digest(uri: string): Promise<string | null> {
    const body = await this.get(uri);
    return body ? sha256(body) : null;
  }

  async readSummary(uri: string): Promise<JobSummary | null> {
    const body = await this.get(uri);
    return body ? parseJobSummary(JSON.parse(body.toString('utf8')), uri) : null;
  }

  private async get(uri: string): Promise<Buffer | null> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await readBody(out.Body);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
