import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import * as activities from '../fixtures/activities';
import {
  closeTestConnections,
  testEnvironment,
  testTemporalClient,
  testWorkerConnection,
  uniqueName,
} from '../helpers/stack';

after(closeTestConnections);

describe('Temporal dev server of the test stack', () => {
  it('runs a workflow with an activity on a real worker', async () => {
    const env = testEnvironment();
    const taskQueue = uniqueName('tq');
    const worker = await Worker.create({
      connection: await testWorkerConnection(),
      namespace: env.temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('../fixtures/workflows'),
      activities,
    });
    const client = await testTemporalClient();
    const workflowId = uniqueName('greeting');
    const result = await worker.runUntil(
      client.workflow.execute('greetingWorkflow', {
        taskQueue,
        workflowId,
        args: ['lake'],
        workflowExecutionTimeout: '60 seconds',
      }),
    );
    assert.equal(result, 'hello, lake');
    const description = await client.workflow.getHandle(workflowId).describe();
    assert.equal(description.status.name, 'COMPLETED');
  });
});
