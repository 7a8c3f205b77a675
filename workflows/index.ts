/** Workflow entry point for the worker's bundle: every workflow type the worker serves. */
export { pipelineWorkflow } from './pipeline';
