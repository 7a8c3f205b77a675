import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseS3Uri, s3Prefix, splitS3Uri } from '../../core/s3-uri';

test('S3 URIs: bucket and key, the bucket root, prefixes without trailing slashes, and what is not one', () => {
  assert.deepEqual(splitS3Uri('s3://my-bucket/landing/T/x.json'), { bucket: 'my-bucket', key: 'landing/T/x.json' });
  assert.deepEqual(splitS3Uri('s3://my-bucket'), { bucket: 'my-bucket', key: '' });
  assert.deepEqual(splitS3Uri('s3://my-bucket/'), { bucket: 'my-bucket', key: '' });
  assert.deepEqual(s3Prefix('s3://my-bucket/export/T//'), { bucket: 'my-bucket', prefix: 'export/T' });
  assert.deepEqual(s3Prefix('s3://my-bucket/'), { bucket: 'my-bucket', prefix: '' });
  for (const bad of ['s3://My_Bucket/x', 's3://ab/x', 'file:///tmp/x', 's3:/b/x', 'my-bucket/x', 's3://-bucket/x'])
    assert.equal(splitS3Uri(bad), undefined, bad);
  assert.equal(s3Prefix('https://my-bucket/x'), undefined);
  assert.throws(() => parseS3Uri('s3://ab'), /not an S3 URI: s3:\/\/ab/);
});
