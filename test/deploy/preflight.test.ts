/**
 * The checks `npm run deploy` makes before it deploys, against the test stack's moto (DynamoDB,
 * Secrets Manager): the stack parameters they find, and every problem named with its fix, without
 * a secret value in any message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateTableCommand,
  DynamoDBClient,
  DescribeTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ensureTransactionTable } from '../../tools/generate/transaction-table';
import { isUserError } from '../../core/errors';
import { preflight } from '../../deploy/preflight';
import { deploymentTargets } from '../../deploy/targets';
import { TEMPORAL_SECRET_KEYS } from '../../deploy/worker-service';
import { testAwsConfig, uniqueName } from '../helpers/stack';
import { awsExample, scratch, writeConfigs } from './support';

const dir = scratch('preflight');
const API_KEY = `api-key-${uniqueName('never-printed')}`;

describe('deploy preflight against moto', () => {
  let dynamodb: DynamoDBClient;
  let secrets: SecretsManagerClient;
  before(() => {
    dynamodb = new DynamoDBClient(testAwsConfig());
    secrets = new SecretsManagerClient(testAwsConfig());
  });
  after(() => {
    dynamodb.destroy();
    secrets.destroy();
  });

  const targetsFor = (table: string, secretName: string) =>
    deploymentTargets(writeConfigs(dir, [{ ...awsExample(), table }]), {
      stackName: 'ddb-lake',
      temporalSecretName: secretName,
    });
  const secretValue = (overrides: Record<string, string | undefined> = {}) =>
    JSON.stringify({
      ...Object.fromEntries(TEMPORAL_SECRET_KEYS.map((k) => [k, ''])),
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: API_KEY,
      ...overrides,
    });

  test('a table with PITR and a stream, a complete secret: the stream ARN and the secret ARN as stack parameters', async () => {
    const table = `Transaction-${uniqueName('preflight')}`;
    await ensureTransactionTable(dynamodb, table);
    const secretName = `ddb-lake/${uniqueName('temporal')}`;
    const created = await secrets.send(new CreateSecretCommand({ Name: secretName, SecretString: secretValue() }));
    const parameters = await preflight(targetsFor(table, secretName), { dynamodb, secrets });
    const streamArn = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
    assert.deepEqual(parameters, { TransactionStreamArn: streamArn, TemporalConnectionArn: created.ARN });
  });

  test('every problem at once, each with its fix; no secret value in the message', async () => {
    const table = `Bare-${uniqueName('preflight')}`;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'account', AttributeType: 'S' },
          { AttributeName: 'create_at', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'account', KeyType: 'HASH' },
          { AttributeName: 'create_at', KeyType: 'RANGE' },
        ],
      }),
    );
    await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: table });
    const message = await refusal(targetsFor(table, `ddb-lake/${uniqueName('absent')}`));
    assert.match(message, /^cannot deploy in us-east-1 \(3 problems\):/);
    assert.match(
      message,
      /- transaction: point-in-time recovery is off for table "Bare-[^"]*" \(the export needs it\): turn it on with `aws dynamodb update-continuous-backups/,
    );
    assert.match(message, /- transaction: table "Bare-.*" has no stream: enable one with new images/);
    assert.match(
      message,
      /- the Temporal secret "ddb-lake\/absent-.*" does not exist in us-east-1: create it \(docs\/aws\.md, "Temporal": a JSON object with the keys TEMPORAL_ADDRESS, /,
    );

    const missingKeys = `ddb-lake/${uniqueName('partial')}`;
    await secrets.send(
      new CreateSecretCommand({
        Name: missingKeys,
        SecretString: JSON.stringify({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_API_KEY: API_KEY }),
      }),
    );
    const ok = `Transaction-${uniqueName('preflight')}`;
    await ensureTransactionTable(dynamodb, ok);
    const partial = await refusal(targetsFor(ok, missingKeys));
    assert.match(
      partial,
      /lacks the key\(s\) TEMPORAL_NAMESPACE, TEMPORAL_TLS_CLIENT_CERT_DATA, TEMPORAL_TLS_CLIENT_KEY_DATA \(the worker's task would not start\)/,
    );
    const emptyAddress = `ddb-lake/${uniqueName('empty')}`;
    await secrets.send(
      new CreateSecretCommand({ Name: emptyAddress, SecretString: secretValue({ TEMPORAL_ADDRESS: '' }) }),
    );
    assert.match(await refusal(targetsFor(ok, emptyAddress)), /has no value for TEMPORAL_ADDRESS: set them/);
    for (const m of [message, partial]) assert.ok(!m.includes(API_KEY), 'the API key is never in a message');
  });

  async function refusal(targets: ReturnType<typeof targetsFor>): Promise<string> {
    try {
      await preflight(targets, { dynamodb, secrets });
    } catch (err) {
      assert.ok(isUserError(err), String(err));
      return err.message;
    }
    assert.fail('preflight passed');
  }
});
