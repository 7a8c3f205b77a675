import type { PipelineConfig } from '../core/config';
import type { TableDescription } from './table-inspector';

/**
 * What must hold before a pipeline starts, each problem as one sentence naming the fix. Pure: the
 * validate activity feeds it what the TableInspector saw.
 */
export function tableProblems(
  config: PipelineConfig,
  table: TableDescription | null,
  bucketProblems: { field: string; problem: string | null }[],
): string[] {
  const problems: string[] = [];
  const name = config.table;
  if (!table) {
    problems.push(`table "${name}" does not exist: create it, or fix "table" in the config`);
  } else {
    if (table.status !== 'ACTIVE' && table.status !== 'UPDATING')
      problems.push(`table "${name}" is ${table.status}: wait until it is ACTIVE, then start the pipeline again`);
    if (!table.pointInTimeRecovery && !config.export.existingExportArn)
      problems.push(
        `point-in-time recovery is off for table "${name}" (the export needs it): turn it on with ` +
          `\`aws dynamodb update-continuous-backups --table-name ${name} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true\``,
      );
    if (!table.streamViewType)
      problems.push(
        `table "${name}" has no stream: enable one with new images, ` +
          `\`aws dynamodb update-table --table-name ${name} --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES\``,
      );
    else if (table.streamViewType !== 'NEW_IMAGE' && table.streamViewType !== 'NEW_AND_OLD_IMAGES')
      problems.push(
        `the stream of table "${name}" has view type ${table.streamViewType}, which carries no new images: ` +
          `disable the stream and enable it again with StreamViewType=NEW_AND_OLD_IMAGES (or NEW_IMAGE)`,
      );
    const tableKeys = tableKeyFields(table);
    if (config.keyFields && !sameSet(config.keyFields, tableKeys))
      problems.push(
        `keyFields [${config.keyFields.join(', ')}] are not the key of table "${name}" ([${tableKeys.join(', ')}]): ` +
          `remove "keyFields" from the config or set it to the table's key`,
      );
    const derived = new Set(config.derivedColumns.map((d) => d.name));
    for (const k of tableKeys)
      if (derived.has(k))
        problems.push(
          `derived column "${k}" has the name of a key attribute of "${name}": rename it in "derivedColumns"`,
        );
  }
  for (const b of bucketProblems)
    if (b.problem) problems.push(`${b.field}: ${b.problem}: create the bucket or fix "${b.field}"`);
  return problems;
}

/** Hash key first, then range key. */
export function tableKeyFields(table: TableDescription): string[] {
  const hash = table.keySchema.filter((k) => k.keyType === 'HASH').map((k) => k.attributeName);
  const range = table.keySchema.filter((k) => k.keyType === 'RANGE').map((k) => k.attributeName);
  return [...hash, ...range];
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
