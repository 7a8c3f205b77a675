/** A deliberately nondeterministic change: a timer added before the first activity. */
import { sleep } from '@temporalio/workflow';
import type { PipelineInput } from '../../../workflows/definitions';
import { pipelineWorkflow as current } from '../../../workflows/pipeline';

export async function pipelineWorkflow(input: PipelineInput): Promise<void> {
  await sleep('1 second');
  return current(input);
}
