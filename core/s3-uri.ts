/**
 * S3 URIs (`s3://bucket/key`), parsed in one place. Pure and dependency-free: the workflow, the
 * stream Lambda (deployed alone) and everything else use it.
 */

/** An S3 URI whose bucket is a valid bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit). */
export const S3_URI_PATTERN = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

export interface S3Location {
  bucket: string;
  /** The key (or key prefix) after the bucket; '' for the bucket itself. */
  key: string;
}

/** `s3://bucket/key` → its bucket and key; undefined for anything else. */
export function splitS3Uri(uri: string): S3Location | undefined {
  const m = S3_URI_PATTERN.exec(uri);
  return m ? { bucket: m[1]!, key: m[2] ?? '' } : undefined;
}

/** Like splitS3Uri, for URIs that must be S3 URIs (config-validated or built by us): throws otherwise. */
export function parseS3Uri(uri: string): S3Location {
  const location = splitS3Uri(uri);
  if (!location) throw new Error(`not an S3 URI: ${uri}`);
  return location;
}

/** `s3://bucket/prefix/` → the bucket and the prefix without trailing slashes (an export location); undefined if not an S3 URI. */
export function s3Prefix(uri: string): { bucket: string; prefix: string } | undefined {
  const location = splitS3Uri(uri);
  return location && { bucket: location.bucket, prefix: location.key.replace(/\/+$/, '') };
}
