import { dirname } from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';

/**
 * Parse a workflow history in the JSON form `temporal workflow show -o json` and the Web UI write.
 *
 * Why not the SDK's `historyFromJSON`: npm installs protobufjs 8 three times here (a 7.x copy for
 * grpc sits at the top), and the SDK's helper then checks its types against another copy's classes
 * ("type must be a Type"). Using the protobufjs copy @temporalio/proto itself resolves works in any
 * install layout.
 */
export function historyFromJson(json: unknown): History {
  const protoDir = dirname(require.resolve('@temporalio/proto/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromJson } = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as {
    fromJson: (type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }) => History | null;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as {
    patchProtobufRoot: (root: unknown) => { lookupType(name: string): unknown };
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const historyType = patchProtobufRoot(require('@temporalio/proto')).lookupType('temporal.api.history.v1.History');
  const h = json as { events?: Record<string, unknown>[] };
  if (typeof h !== 'object' || h === null || !Array.isArray(h.events))
    throw new TypeError('not a workflow history: expected an object with an "events" array');
  const loaded = fromJson(historyType, { events: h.events.map(constantCaseEventType) }, { ignoreUnknownFields: true });
  if (!loaded) throw new TypeError('not a workflow history');
  return loaded;
}

/** Older exports spell event types `WorkflowExecutionStarted`; the proto enum is `EVENT_TYPE_WORKFLOW_EXECUTION_STARTED`. */
function constantCaseEventType(e: Record<string, unknown>): Record<string, unknown> {
  const t = e.eventType;
  if (typeof t !== 'string' || t.startsWith('EVENT_TYPE_')) return e;
  return { ...e, eventType: `EVENT_TYPE_${t.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}` };
}
