/**
 * The export step of the pipeline workflow: start the table's export (or adopt a named one) and
 * wait for it, recording it in the state. Deterministic (workflow code); idempotent across retries
 * because the export's client token is fixed per attempt.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ExportInfo } from '../activities/types';
import type { PipelineConfig } from '../core/config';
import type { pipelineActivities } from './activities';
import type { ExportRecord, PipelineState, Step } from './definitions';

export interface ExportStepInput {
  tableArn: string;
  /** The client token of this export attempt: a retried start finds its export. */
  clientToken: string;
  onStep(step: Step): void;
}

export async function exportStep(
  config: PipelineConfig,
  s: PipelineState,
  exporting: ReturnType<typeof pipelineActivities>['exporting'],
  input: ExportStepInput,
): Promise<void> {
  const location = exportLocationOf(config.export.location);
  // A rebackfill always takes a fresh export (the adopted one is what it replaces).
  const adopt = s.rebackfill ? null : (config.export.existingExportArn ?? null);
  if (!s.export || s.export.status === 'FAILED') {
    let result: ExportInfo;
    if (adopt) {
      input.onStep('awaitExport');
      result = await exporting.awaitExport({
        exportArn: adopt,
        location,
        pollIntervalSeconds: config.export.pollIntervalSeconds,
        adoptForTableArn: input.tableArn,
      });
    } else {
      input.onStep('startExport');
      result = await exporting.startExport({
        tableArn: input.tableArn,
        tableName: config.table,
        location,
        clientToken: input.clientToken,
      });
    }
    s.export = exportRecord(result, adopt !== null);
  }
  if (s.export.status === 'IN_PROGRESS') {
    input.onStep('awaitExport');
    const result = await exporting.awaitExport({
      exportArn: s.export.exportArn,
      location,
      pollIntervalSeconds: config.export.pollIntervalSeconds,
      adoptForTableArn: s.export.adopted ? input.tableArn : null,
    });
    s.export = exportRecord(result, s.export.adopted);
  }
  if (s.export.status === 'FAILED')
    throw new Error(`export ${s.export.exportArn} failed: ${s.export.failure ?? 'no reason given'}`);
  if (s.export.exportTimeMs === null || s.export.root === null)
    throw new Error(`export ${s.export.exportArn} completed without an export time or manifest`);
}

function exportRecord(e: ExportInfo, adopted: boolean): ExportRecord {
  const { exportArn, status, exportTimeMs, root, itemCount, failure } = e;
  return { exportArn, status, exportTimeMs, root, itemCount, failure, adopted };
}

/** `s3://bucket/prefix/` → bucket and prefix without a trailing slash. */
function exportLocationOf(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw ApplicationFailure.nonRetryable(`export.location ${uri} is not an S3 URI`, 'PipelineInvalid');
  return { bucket: m[1]!, prefix: m[2]!.replace(/\/+$/, '') };
}
