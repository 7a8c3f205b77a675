import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { canonicalNumber, decodeLine, encodeRecord, EncodingError, jsonNumberLiteral } from '../../lambda/encoding';
import { ExactJsonNumber, parseExactJson } from '../../lambda/exact-json';

function record(image: Record<string, AttributeValue>, overrides: Partial<DynamoDBRecord> = {}): DynamoDBRecord {
  return {
    eventID: 'e1',
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1690735787,
      SequenceNumber: '1100000000017454423009',
      NewImage: image,
      Keys: { k: image.k ?? { S: 'k' } },
    },
    ...overrides,
  };
}

const roundTrip = (image: Record<string, AttributeValue>) => decodeLine(encodeRecord(record(image))).item;

describe('numbers', () => {
  const kept = [
    '0',
    '-0',
    '452',
    '12345678901234567890123456789012345678', // 38 digits
    '-0.12345678901234567890123456789012345678',
    '1E+125',
    '-1E-130',
    '9.9999999999999999999999999999999999999E+125',
    '1e-130',
    '123.456e7',
  ];
  for (const n of kept) {
    it(`copies ${n} unchanged, and decodes it back to the same text`, () => {
      assert.equal(jsonNumberLiteral(n), n);
      const line = encodeRecord(record({ k: { S: 'a' }, n: { N: n } }));
      assert.ok(line.includes(`"n":${n},`), line);
      assert.deepEqual(decodeLine(line).item.n, { N: n });
    });
  }

  const rewritten: [string, string][] = [
    ['.5', '0.5'],
    ['-.5', '-0.5'],
    ['+.5e3', '0.5e3'],
    ['+1', '1'],
    ['5.', '5'],
    ['-5.E+2', '-5E+2'],
    ['007', '7'],
    ['00.10', '0.10'],
    ['-000.000', '-0.000'],
    ['.12345678901234567890123456789012345678E-92', '0.12345678901234567890123456789012345678E-92'],
  ];
  for (const [input, json] of rewritten) {
    it(`rewrites ${input} textually to ${json} (same value)`, () => {
      assert.equal(jsonNumberLiteral(input), json);
      assert.equal(canonicalNumber(json), canonicalNumber(input));
      assert.deepEqual(roundTrip({ k: { S: 'a' }, n: { N: input } }).n, { N: json });
    });
  }

  for (const bad of [
    '',
    'abc',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e',
    '--1',
    '.',
    '+',
    '1.2.3',
    ' 1',
    '1 ',
    '0x10',
    '1_000',
    'e5',
    '.e5',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => jsonNumberLiteral(bad), EncodingError);
      assert.throws(() => encodeRecord(record({ k: { S: 'a' }, n: { N: bad } })), /attribute "n": N value/);
    });
  }

  it('never goes through a double: 38 digits survive where JSON.parse would round them', () => {
    const n = '98765432109876543210987654321098765432';
    const line = encodeRecord(record({ k: { S: 'a' }, n: { N: n } }));
    assert.notEqual(String(JSON.parse(line).n), n, 'JSON.parse loses the digits; the decoder must not');
    assert.equal(decodeLine(line).item.n!.N, n);
  });

  it('canonical forms compare values, not spellings', () => {
    assert.equal(canonicalNumber('1.50'), canonicalNumber('15E-1'));
    assert.equal(canonicalNumber('0.000'), '0');
    assert.equal(canonicalNumber('-0'), '0');
    assert.equal(canonicalNumber('1E+125'), '1e125');
    assert.equal(canonicalNumber('-1E-130'), '-1e-130');
    assert.notEqual(canonicalNumber('1.5'), canonicalNumber('1.05'));
  });
});

describe('every DynamoDB type', () => {
  const image: Record<string, AttributeValue> = {
    k: { S: 'key' },
    s: { S: 'text with "quotes", \\ backslash, \n newline, \u0001 control, 中文, emoji 😀' },
    emptyString: { S: '' },
    n: { N: '-12.5' },
    yes: { BOOL: true },
    no: { BOOL: false },
    nothing: { NULL: true },
    b: { B: 'AAH/' },
    emptyBinary: { B: '' },
    ss: { SS: ['a', 'b', ''] },
    ns: { NS: ['1', '-2.5', '1E+125'] },
    bs: { BS: ['AA==', 'AQI='] },
    emptyMap: { M: {} },
    emptyList: { L: [] },
    m: {
      M: {
        plain: { S: 'x' },
        num: { N: '3' },
        bin: { B: 'BQ==' },
        deeper: { M: { set: { NS: ['7'] }, list: { L: [{ B: 'Bg==' }, { S: 'y' }, { BS: ['Bw=='] }] } } },
        _underscore: { S: 'not escaped inside maps' },
      },
    },
    l: {
      L: [
        { S: 'a' },
        { N: '1' },
        { SS: ['q'] },
        { L: [{ NULL: true }, { B: 'CA==' }] },
        { M: { b: { B: 'CQ==' } } },
        { BOOL: false },
      ],
    },
  };

  it('round-trips through encoder and decoder exactly', () => {
    assert.deepEqual(roundTrip(image), image);
  });

  it('writes plain JSON where it is unambiguous and descriptors only where needed', () => {
    const line = encodeRecord(record(image));
    const plain = JSON.parse(line);
    assert.equal(plain.s, image.s!.S);
    assert.equal(plain.emptyString, '');
    assert.equal(plain.yes, true);
    assert.equal(plain.nothing, null);
    assert.deepEqual(plain.emptyMap, {});
    assert.deepEqual(plain.emptyList, []);
    assert.deepEqual(plain._types, {
      b: 'B',
      emptyBinary: 'B',
      ss: 'SS',
      ns: 'NS',
      bs: 'BS',
      m: { M: { bin: 'B', deeper: { M: { set: 'NS', list: { L: { '0': 'B', '2': 'BS' } } } } } },
      l: { L: { '2': 'SS', '3': { L: { '1': 'B' } }, '4': { M: { b: 'B' } } } },
    });
  });

  it("encodes the brief's sample item exactly as docs/encoding.md shows it", () => {
    const line = encodeRecord(
      record({
        account: { S: '622-331-1164' },
        create_at: { S: '2023-07-30T16:49:47.237081+0000' },
        update_at: { S: '2023-07-30T16:49:47.237081+0000' },
        entity: { S: 'May, English and Hartman' },
        amount: { N: '452' },
        is_credit: { N: '0' },
        note: { S: 'Specific indeed or opportunity determine trial.' },
      }),
    );
    assert.equal(
      line,
      '{"account":"622-331-1164","create_at":"2023-07-30T16:49:47.237081+0000","update_at":"2023-07-30T16:49:47.237081+0000","entity":"May, English and Hartman","amount":452,"is_credit":0,"note":"Specific indeed or opportunity determine trial.","_op":"insert","_seq":"1100000000017454423009","_ts":1690735787000,"_ttl":false}',
    );
  });

  it('rejects malformed values with the attribute named', () => {
    const cases: [AttributeValue, RegExp][] = [
      [{ B: 'not base64!' }, /binary value is not padded base64/],
      [{ B: 'AAE' }, /padded base64/],
      [{ SS: [] }, /SS value is empty/],
      [{ S: 'a', N: '1' } as unknown as AttributeValue, /more than one type/],
      [{} as AttributeValue, /no type/],
      [{ X: 'y' } as unknown as AttributeValue, /unknown attribute type "X"/],
      [{ NULL: false }, /NULL value is not true/],
      [{ M: { inner: { N: 'x' } } }, /N value "x"/],
    ];
    for (const [value, message] of cases)
      assert.throws(
        () => encodeRecord(record({ k: { S: 'a' }, bad: value })),
        (err: Error) =>
          err instanceof EncodingError && /attribute "bad"/.test(err.message) && message.test(err.message),
      );
  });
});

describe('attribute names and metadata', () => {
  it('escapes user attributes starting with _ and restores them', () => {
    const image: Record<string, AttributeValue> = {
      k: { S: 'a' },
      _x: { S: '1' },
      __y: { N: '2' },
      _op: { S: 'user op' },
      _types: { B: 'AA==' },
      _: { BOOL: true },
    };
    const line = encodeRecord(record(image));
    const plain = JSON.parse(line);
    assert.equal(plain.__x, '1');
    assert.equal(plain.___y, 2);
    assert.equal(plain.__op, 'user op');
    assert.equal(plain._op, 'insert');
    assert.equal(plain.__, true);
    assert.deepEqual(plain._types, { _types: 'B' }, 'descriptors are keyed by the original name');
    assert.deepEqual(decodeLine(line).item, image);
  });

  it('maps the event, sequence number, time and TTL origin', () => {
    const insert = decodeLine(encodeRecord(record({ k: { S: 'a' } })));
    assert.deepEqual(
      { ...insert, item: undefined },
      { op: 'insert', seq: '1100000000017454423009', ts: 1690735787000, ttl: false, item: undefined },
    );
    const modify = decodeLine(encodeRecord(record({ k: { S: 'a' } }, { eventName: 'MODIFY' })));
    assert.equal(modify.op, 'modify');
    const ttlRemove = decodeLine(
      encodeRecord({
        eventName: 'REMOVE',
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
        dynamodb: {
          ApproximateCreationDateTime: 1.5,
          SequenceNumber: '7',
          Keys: { k: { S: 'a' } },
          OldImage: { k: { S: 'a' }, v: { N: '1' } },
        },
      }),
    );
    assert.deepEqual(ttlRemove, {
      op: 'remove',
      seq: '7',
      ts: 1500,
      ttl: true,
      item: { k: { S: 'a' }, v: { N: '1' } },
    });
    const userRemove = decodeLine(
      encodeRecord({
        eventName: 'REMOVE',
        userIdentity: { type: 'User', principalId: 'x' },
        dynamodb: { ApproximateCreationDateTime: 2, SequenceNumber: '8', Keys: { k: { S: 'a' } } },
      }),
    );
    assert.deepEqual(
      userRemove,
      { op: 'remove', seq: '8', ts: 2000, ttl: false, item: { k: { S: 'a' } } },
      'without an old image a remove carries the keys',
    );
  });

  it('refuses records it cannot represent, saying why', () => {
    assert.throws(() => encodeRecord(record({ k: { S: 'a' } }, { eventName: undefined })), /eventName undefined/);
    assert.throws(
      () =>
        encodeRecord({
          eventName: 'MODIFY',
          dynamodb: {
            ApproximateCreationDateTime: 1,
            SequenceNumber: '1',
            Keys: { k: { S: 'a' } },
            StreamViewType: 'KEYS_ONLY',
          },
        }),
      /no NewImage \(stream view type KEYS_ONLY\)/,
    );
    assert.throws(
      () =>
        encodeRecord(
          record(
            { k: { S: 'a' } },
            { dynamodb: { ApproximateCreationDateTime: 1, SequenceNumber: '12a', NewImage: {} } },
          ),
        ),
      /SequenceNumber "12a"/,
    );
    assert.throws(
      () => encodeRecord(record({ k: { S: 'a' } }, { dynamodb: { SequenceNumber: '1', NewImage: {} } })),
      /ApproximateCreationDateTime/,
    );
  });
});

describe('decoder strictness', () => {
  const good = encodeRecord(record({ k: { S: 'a' }, b: { B: 'AA==' } }));
  const cases: [string, RegExp][] = [
    [good.replace('"_op":"insert"', '"_op":"upsert"'), /_op "upsert"/],
    [good.replace('"_seq":"1100000000017454423009"', '"_seq":1100000000017454423009'), /_seq/],
    [good.replace('"_ts":1690735787000', '"_ts":1.5'), /_ts 1.5/],
    [good.replace('"_ttl":false', '"_ttl":0'), /_ttl/],
    [good.replace('"_types":{"b":"B"}', '"_types":{"b":"B","zz":"B"}'), /_types names "zz"/],
    [good.replace('"_types":{"b":"B"}', '"_types":{"b":"X"}'), /bad type descriptor/],
    [good.replace('"b":"AA=="', '"b":"AA=!"'), /padded base64/],
    [good.replace('{"k":"a"', '{"k":"a","k":"b"'), /duplicate key "k"/],
    [`${good},`, /unexpected text/],
    ['[1]', /must be a JSON object/],
  ];
  for (const [line, message] of cases) it(`rejects ${message}`, () => assert.throws(() => decodeLine(line), message));

  it('ignores metadata fields it does not know (forward compatible)', () => {
    const line = good.replace('"_ttl":false', '"_ttl":false,"_future":{"x":1}');
    assert.deepEqual(decodeLine(line), decodeLine(good));
  });
});

describe('exact JSON parser', () => {
  it('keeps number text and parses strings with every escape', () => {
    const v = parseExactJson(
      ' {"a" : [1.50, -0, 2E+3, 12345678901234567890123456789], "s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00", "t":true,"f":false,"n":null}\n',
    );
    assert.ok(v instanceof Map);
    assert.deepEqual(
      (v.get('a') as ExactJsonNumber[]).map((n) => n.text),
      ['1.50', '-0', '2E+3', '12345678901234567890123456789'],
    );
    assert.equal(v.get('s'), '"\\/\b\f\n\r\té😀');
    assert.equal(v.get('t'), true);
    assert.equal(v.get('n'), null);
  });

  it('is strict', () => {
    for (const bad of [
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      "{'a':1}",
      '{"a":1,}',
      '[1,]',
      '"\u0001"',
      '"\\x"',
      '{"a" 1}',
      'tru',
      '',
      '{"__proto__":1,"__proto__":2}',
      '"abc',
    ])
      assert.throws(() => parseExactJson(bad), SyntaxError, bad);
  });

  it('keeps __proto__ as an ordinary key', () => {
    const v = parseExactJson('{"__proto__":{"x":1}}') as Map<string, unknown>;
    assert.ok(v.get('__proto__') instanceof Map);
    const line = encodeRecord(record({ k: { S: 'a' }, m: { M: { __proto__: { B: 'AA==' } } } }));
    // The object literal above sets a prototype, not a key: build the map explicitly instead.
    const m: Record<string, AttributeValue> = Object.create(null) as Record<string, AttributeValue>;
    m['__proto__'] = { B: 'AA==' };
    const line2 = encodeRecord(record({ k: { S: 'a' }, m: { M: m } }));
    assert.ok(
      line2.includes('"m":{"__proto__":"AA=="}') && line2.includes('"_types":{"m":{"M":{"__proto__":"B"}}}'),
      line2,
    );
    assert.equal(decodeLine(line2).item.m!.M!['__proto__']!.B, 'AA==');
    assert.ok(line.includes('"m":{}'), 'a prototype is not an attribute');
  });
});
