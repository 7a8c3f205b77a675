/** Stream records as GetRecords returns them (AWS SDK) → the exact records Lambda hands a function. */
import type { _Record as SdkStreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { toLambdaItem } from '../../lambda/attribute-value';

export function toLambdaRecord(record: SdkStreamRecord, eventSourceARN: string): DynamoDBRecord {
  const s = record.dynamodb ?? {};
  const out: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    dynamodb: {
      // Lambda delivers epoch seconds; DynamoDB rounds the creation time down to the second.
      ...(s.ApproximateCreationDateTime && {
        ApproximateCreationDateTime: Math.floor(s.ApproximateCreationDateTime.getTime() / 1000),
      }),
      ...(s.Keys && { Keys: toLambdaItem(s.Keys) }),
      ...(s.NewImage && { NewImage: toLambdaItem(s.NewImage) }),
      ...(s.OldImage && { OldImage: toLambdaItem(s.OldImage) }),
      SequenceNumber: s.SequenceNumber,
      SizeBytes: s.SizeBytes,
      StreamViewType: s.StreamViewType,
    },
    eventSourceARN,
  };
  if (record.userIdentity)
    out.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  return out;
}
