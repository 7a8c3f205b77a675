import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { testS3Client, uniqueName } from '../helpers/stack';

const s3 = testS3Client();
after(() => s3.destroy());

describe('moto: S3', () => {
  it('stores an object and lists it under its prefix', async () => {
    const Bucket = uniqueName('landing');
    await s3.send(new CreateBucketCommand({ Bucket }));
    const Key = 'stream/2024-05-01-10-00/shard-1_100_200.json';
    const Body = '{"eventName":"INSERT"}\n';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'application/json' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'other/x.json', Body: '{}' }));

    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'stream/' }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [[Key, Buffer.byteLength(Body)]],
    );
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(await got.Body?.transformToString(), Body);
  });
});
