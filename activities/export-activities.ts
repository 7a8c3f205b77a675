import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { exportRoot, type ExportState } from './exporter';
import { sleepHeartbeating } from './heartbeat';
import type { PipelineServices } from './services';
import type { AwaitExportRequest, ExportInfo, StartExportRequest } from './types';

/** Start the table's export and wait for it (AWS: ExportTableToPointInTime; local: the scanning exporter). */
export function exportActivities({ exporter, metrics }: PipelineServices) {
  return {
    /** Start the export, idempotently by client token. */
    async startExport(request: StartExportRequest): Promise<ExportInfo> {
      try {
        const ctx = Context.current();
        const state = await exporter.start(
          {
            tableArn: request.tableArn,
            tableName: request.tableName,
            ...request.location,
            clientToken: request.clientToken,
          },
          (detail) => {
            ctx.heartbeat(detail);
            // The local export runs inside this call: a cancelled pipeline stops the scan (a retry starts afresh).
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure('export cancelled');
          },
        );
        return exportInfo(state);
      } catch (err) {
        if (err instanceof CancelledFailure) throw err;
        throw exportFailure(err);
      }
    },

    /** Wait (heartbeating) until the export is no longer in progress. */
    async awaitExport(request: AwaitExportRequest): Promise<ExportInfo> {
      const ctx = Context.current();
      for (;;) {
        let state: ExportState;
        try {
          state = await exporter.describe(request.exportArn, request.location);
        } catch (err) {
          throw exportFailure(err);
        }
        if (request.adoptForTableArn && state.tableArn && state.tableArn !== request.adoptForTableArn)
          throw ApplicationFailure.nonRetryable(
            `export.existingExportArn ${request.exportArn} is an export of ${state.tableArn}, not of ${request.adoptForTableArn}: name an export of this table or remove the field`,
            'ExportMismatch',
          );
        if (request.adoptForTableArn && state.status === 'FAILED')
          throw ApplicationFailure.nonRetryable(
            `export.existingExportArn ${request.exportArn} failed (${state.failure ?? 'no reason given'}): remove the field to let the pipeline export the table itself`,
            'ExportMismatch',
          );
        if (state.status !== 'IN_PROGRESS') return exportInfo(state);
        await sleepHeartbeating(
          ctx,
          metrics,
          request.pollIntervalSeconds * 1000,
          `export ${state.exportArn} in progress`,
        );
      }
    },
  };
}

function exportInfo(state: ExportState): ExportInfo {
  return {
    exportArn: state.exportArn,
    status: state.status,
    exportTimeMs: state.exportTimeMs,
    root: exportRoot(state),
    itemCount: state.itemCount,
    startTimeMs: state.startTimeMs,
    endTimeMs: state.endTimeMs,
    failure: state.failure,
  };
}

/** Export errors a retry cannot fix become non-retryable failures that say what to do. */
function exportFailure(err: unknown): unknown {
  const name = (err as { name?: string })?.name ?? '';
  const message = (err as Error)?.message ?? String(err);
  const fixes: Record<string, string> = {
    PointInTimeRecoveryUnavailableException: 'turn on point-in-time recovery for the table',
    TableNotFoundException: 'check "table" in the config',
    ExportNotFoundException: 'check export.existingExportArn (and export.location for a local export)',
    ExportConflictException:
      'an export with this client token but other settings exists; start the pipeline under a new name',
    InvalidExportTimeException: 'the export time is outside the point-in-time recovery window',
    AccessDeniedException: 'grant the worker dynamodb:ExportTableToPointInTime and s3:PutObject on export.location',
  };
  if (fixes[name]) return ApplicationFailure.nonRetryable(`${name}: ${message} — ${fixes[name]}`, name);
  return err;
}
