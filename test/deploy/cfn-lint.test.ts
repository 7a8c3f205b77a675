/**
 * cfn-lint (from PyPI, in the toolchain's venv: python/requirements.txt) on every template the CDK
 * app writes for the AWS example config: no error, no warning.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { AWS_EXAMPLE, cfnLint, scratch, synthFiles } from './support';

test('cfn-lint passes on every template synthesized from configs/transaction-aws.json', () => {
  const out = join(scratch('cfn-lint'), 'cdk.out');
  synthFiles([AWS_EXAMPLE], out);
  const lint = cfnLint(out);
  assert.equal(lint.templates.length, 1, 'one stack');
  assert.equal(lint.status, 0, lint.output);
  assert.equal(lint.output, '');
});
