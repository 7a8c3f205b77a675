import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../core/s3-uri';
import {
  classifyLandingKey,
  completeFoldersOnly,
  startAfterKey,
  type LandingFile,
  type LandingLink,
} from '../../core/planner';
import type { LandingLister, LandingListing } from '../landing-lister';

export class S3LandingLister implements LandingLister {
  constructor(private readonly s3: S3Client) {}

  async list(
    landingUri: string,
    afterFolder: string,
    enough: (files: LandingFile[]) => boolean,
  ): Promise<LandingListing> {
    const { bucket, key: prefixKey } = parseS3Uri(landingUri.endsWith('/') ? landingUri : `${landingUri}/`);
    const files: LandingFile[] = [];
    const links: LandingLink[] = [];
    let token: string | undefined;
    let startAfter: string | undefined = startAfterKey(prefixKey, afterFolder);
    for (;;) {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefixKey,
          StartAfter: token ? undefined : startAfter,
          ContinuationToken: token,
          MaxKeys: 1000,
        }),
      );
      for (const obj of page.Contents ?? []) {
        const c = classifyLandingKey(prefixKey, obj.Key!);
        if (c.stop) return { files, links, complete: true };
        if (c.file) files.push({ ...c.file, lastModifiedMs: obj.LastModified!.getTime(), size: obj.Size ?? 0 });
        if (c.link) links.push(c.link);
      }
      if (!page.IsTruncated) return { files, links, complete: true };
      if (enough(files)) {
        const kept = completeFoldersOnly(files);
        const last = kept.length ? kept[kept.length - 1]!.folder : '';
        return { files: kept, links: links.filter((l) => l.folder <= last), complete: false };
      }
      token = page.NextContinuationToken;
      startAfter = undefined;
    }
  }
}
