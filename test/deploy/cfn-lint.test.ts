/**
 * cfn-lint (from PyPI, in the toolchain's venv: python/requirements.txt) on every template the CDK
 * app writes, for the AWS example config and for the local example's preview: no error, no warning.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../core/toolchain';
import { AWS_EXAMPLE, cfnLint, scratch, synthFiles } from './support';

for (const [name, config, preview] of [
  ['configs/transaction-aws.json', AWS_EXAMPLE, false],
  ['configs/transaction.json (preview)', join(REPO_ROOT, 'configs', 'transaction.json'), true],
] as const)
  test(`cfn-lint passes on every template synthesized from ${name}`, () => {
    const out = join(scratch(`cfn-lint-${preview ? 'preview' : 'aws'}`), 'cdk.out');
    synthFiles([config], out, undefined, { preview });
    const lint = cfnLint(out);
    assert.equal(lint.templates.length, 1, 'one stack');
    assert.equal(lint.status, 0, lint.output);
    assert.equal(lint.output, '');
  });
