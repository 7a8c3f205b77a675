/** A deliberately nondeterministic change: the table is validated twice, so the export's activity comes one step late. */
import { proxyActivities } from '@temporalio/workflow';
import type { PipelineActivities } from '../../../activities/pipeline-activities';
import type { PipelineInput } from '../../../workflows/definitions';
import { pipelineWorkflow as current } from '../../../workflows/pipeline';

const { validatePipeline } = proxyActivities<PipelineActivities>({ startToCloseTimeout: '1 minute' });

export async function pipelineWorkflow(input: PipelineInput): Promise<void> {
  if (!input.state) await validatePipeline(input.config);
  return current(input);
}
