/**
 * The pipeline workflow: one per table, id = pipeline name. This function only wires the messages
 * (signals, query, updates) to the run; the phases and their state live in PipelineRun
 * (pipeline-run.ts), the way Temporal's safe-message-handlers sample separates them.
 */
import { setHandler } from '@temporalio/workflow';
import {
  pauseSignal,
  rebackfillUpdate,
  resumeSignal,
  runNowUpdate,
  setIntervalUpdate,
  statusQuery,
  type PipelineInput,
} from './definitions';
import { PipelineRun } from './pipeline-run';

export { CYCLE_FROM_START_PATCH } from './pipeline-run';
export { describeFailure } from './failures';

export async function pipelineWorkflow(input: PipelineInput): Promise<void> {
  const run = new PipelineRun(input);
  setHandler(pauseSignal, () => run.pause());
  setHandler(resumeSignal, () => run.resume());
  setHandler(statusQuery, () => run.status());
  setHandler(runNowUpdate, () => run.runNow(), { validator: () => run.checkRunNow() });
  setHandler(rebackfillUpdate, () => run.requestRebackfill(), { validator: () => run.checkRebackfill() });
  setHandler(setIntervalUpdate, (seconds: number) => run.setInterval(seconds), { validator: checkInterval });
  await run.run();
}

function checkInterval(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400)
    throw new Error(`the interval must be a whole number of seconds from 1 to 86400, not ${String(seconds)}`);
}
