import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveStackOptions } from '../../stack/options';
import { UserError } from '../../core/errors';

describe('stack options', () => {
  it('defaults to Temporal 7233 (UI 8233) and moto 5055, none explicit', () => {
    const o = resolveStackOptions({}, {});
    assert.equal(o.temporalPort, 7233);
    assert.equal(o.temporalUiPort, 8233);
    assert.equal(o.awsPort, 5055);
    assert.equal(o.region, 'us-east-1');
    assert.equal(o.host, '127.0.0.1');
    assert.equal(o.explicit.size, 0);
  });

  it('takes flags over environment, and the UI port follows the Temporal port', () => {
    const o = resolveStackOptions(
      { temporalPort: '17233' },
      { DDB_LAKE_TEMPORAL_PORT: '9999', DDB_LAKE_AWS_PORT: '15055' },
    );
    assert.equal(o.temporalPort, 17233);
    assert.equal(o.temporalUiPort, 18233);
    assert.equal(o.awsPort, 15055);
    assert.deepEqual([...o.explicit].sort(), ['awsPort', 'temporalPort']);
  });

  it('rejects bad ports and clashes with a message naming the setting', () => {
    assert.throws(
      () => resolveStackOptions({ awsPort: 'abc' }, {}),
      (e: unknown) => e instanceof UserError && /--aws-port is "abc"/.test(e.message),
    );
    assert.throws(
      () => resolveStackOptions({}, { DDB_LAKE_TEMPORAL_PORT: '80' }),
      (e: unknown) => e instanceof UserError && /DDB_LAKE_TEMPORAL_PORT/.test(e.message),
    );
    assert.throws(
      () => resolveStackOptions({ awsPort: '8233' }, {}),
      (e: unknown) => e instanceof UserError && /both 8233/.test(e.message),
    );
    assert.throws(() => resolveStackOptions({ region: 'moon' }, {}), UserError);
  });
});
