import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { minuteFolder, minuteFolderStart } from '../core/landing';
import {
  classifyLandingKey,
  completeFoldersOnly,
  listedEnough,
  listingStartFolder,
  planBatch,
  startAfterKey,
  type LandingFile,
  type PlanInput,
} from '../core/planner';
import { applyDelta, initialWatermark, type Watermark } from '../core/watermark';

const T0 = Date.UTC(2026, 10, 27, 11, 0, 0);
const MIN = 60_000;
const CLOSE = 120_000;

function file(minute: number, name: string, lastModifiedMs = T0 + minute * MIN + 1000): LandingFile {
  return { folder: minuteFolder(T0 + minute * MIN), name, lastModifiedMs, size: 10 };
}

function wm(closedMinute: number, open: Record<string, string[]> = {}): Watermark {
  return { closedThrough: minuteFolder(T0 + closedMinute * MIN), open, sweptAtMs: null, lateTaken: {} };
}

function plan(over: Partial<PlanInput> & Pick<PlanInput, 'watermark' | 'files' | 'listedAtMs'>) {
  return planBatch({ complete: true, sweep: false, closeAfterMs: CLOSE, maxFiles: 100, ...over });
}

describe('planner', () => {
  test('takes every file after the watermark not yet taken, in listing order', () => {
    const w = wm(-1, { [minuteFolder(T0)]: ['a.json'] });
    const files = [file(0, 'a.json'), file(0, 'b.json'), file(1, 'c.json')];
    const p = plan({ watermark: w, files, listedAtMs: T0 + 90_000 });
    assert.deepEqual(
      p.take.map((f) => f.name),
      ['b.json', 'c.json'],
    );
    assert.deepEqual(p.delta.taken, { [minuteFolder(T0)]: ['b.json'], [minuteFolder(T0 + MIN)]: ['c.json'] });
    assert.equal(p.delta.closedThrough, w.closedThrough, 'no folder is past its close instant yet');
    assert.equal(p.backlog.files, 0);
    assert.equal(p.appliedThroughMs, T0 + 90_000);
  });

  test('a folder closes only once its close instant has passed, and then its names are dropped', () => {
    const w = wm(-1, { [minuteFolder(T0)]: ['a.json'] });
    const files = [file(0, 'a.json'), file(0, 'b.json')];
    // 11:00 closes at 11:02:00.
    assert.equal(plan({ watermark: w, files, listedAtMs: T0 + CLOSE - 1 }).delta.closedThrough, minuteFolder(T0 - MIN));
    const p = plan({ watermark: w, files, listedAtMs: T0 + CLOSE });
    assert.equal(p.delta.closedThrough, minuteFolder(T0));
    assert.equal(p.delta.lateTaken, null);
    assert.deepEqual(p.delta.taken, {}, 'a folder that closes with this batch keeps no names');
    const next = applyDelta(w, p.delta);
    assert.deepEqual(next, { closedThrough: minuteFolder(T0), open: {}, sweptAtMs: null, lateTaken: {} });
  });

  test('empty minutes close too: closedThrough jumps to the last closable minute', () => {
    const p = plan({ watermark: wm(-1), files: [], listedAtMs: T0 + 10 * MIN + 5000 });
    assert.equal(p.take.length, 0);
    assert.equal(p.delta.closedThrough, minuteFolder(T0 + 8 * MIN));
  });

  test('a batch capped at maxFiles leaves the rest for later and closes nothing past it', () => {
    const files = [file(0, 'a.json'), file(0, 'b.json'), file(1, 'c.json'), file(2, 'd.json')];
    const p = plan({ watermark: wm(-1), files, listedAtMs: T0 + 10 * MIN, maxFiles: 3 });
    assert.deepEqual(
      p.take.map((f) => f.name),
      ['a.json', 'b.json', 'c.json'],
    );
    assert.equal(p.delta.closedThrough, minuteFolder(T0 + MIN), 'folders before the first untaken file close');
    assert.deepEqual(p.backlog, { files: 1, oldestLastModifiedMs: files[3]!.lastModifiedMs, more: false });
    assert.equal(p.appliedThroughMs, files[3]!.lastModifiedMs);
    const next = applyDelta(wm(-1), p.delta);
    const p2 = plan({
      watermark: next,
      files: files.filter((f) => f.folder > next.closedThrough),
      listedAtMs: T0 + 10 * MIN,
      maxFiles: 3,
    });
    assert.deepEqual(
      p2.take.map((f) => f.name),
      ['d.json'],
    );
    assert.equal(p2.delta.closedThrough, minuteFolder(T0 + 8 * MIN));
  });

  test('a cap inside one folder keeps that folder open with the names taken', () => {
    const files = [file(0, 'a.json'), file(0, 'b.json'), file(0, 'c.json')];
    const p = plan({ watermark: wm(-1), files, listedAtMs: T0 + 10 * MIN, maxFiles: 2 });
    assert.equal(p.delta.closedThrough, minuteFolder(T0 - MIN));
    assert.deepEqual(p.delta.taken, { [minuteFolder(T0)]: ['a.json', 'b.json'] });
  });

  test('an incomplete listing closes nothing past the last folder it saw', () => {
    const files = [file(0, 'a.json'), file(1, 'b.json')];
    const p = plan({ watermark: wm(-1), files, listedAtMs: T0 + 10 * MIN, complete: false });
    assert.equal(p.delta.closedThrough, minuteFolder(T0 + MIN));
    assert.equal(p.appliedThroughMs, null);
    assert.equal(p.backlog.more, true);
  });

  test('sweep: a file written into a closed folder after its close instant is taken once', () => {
    const w = wm(5);
    const late = file(3, 'late.json', T0 + 6 * MIN);
    const onTime = file(3, 'ontime.json', T0 + 3 * MIN + 5000);
    const files = [onTime, late];
    assert.equal(plan({ watermark: w, files, listedAtMs: T0 + 7 * MIN }).take.length, 0, 'no sweep this cycle');
    const p = plan({ watermark: w, files, listedAtMs: T0 + 7 * MIN, sweep: true });
    assert.deepEqual(
      p.take.map((f) => f.name),
      ['late.json'],
    );
    assert.equal(p.sweptFiles, 1);
    assert.equal(p.delta.sweptAtMs, T0 + 7 * MIN);
    const w2 = applyDelta(w, p.delta);
    assert.deepEqual(w2.lateTaken, { [`${late.folder}/late.json`]: late.lastModifiedMs });
    // The next sweeps do not take it again, and forget it once it is older than the margin.
    const p2 = plan({ watermark: w2, files, listedAtMs: T0 + 7.5 * MIN, sweep: true });
    assert.equal(p2.take.length, 0);
    const w3 = applyDelta(w2, p2.delta);
    assert.deepEqual(w3.lateTaken, { [`${late.folder}/late.json`]: late.lastModifiedMs });
    const p3 = plan({ watermark: w3, files, listedAtMs: T0 + 20 * MIN, sweep: true });
    assert.equal(p3.take.length, 0);
    assert.deepEqual(applyDelta(w3, p3.delta).lateTaken, {});
  });

  test('a sweep cut short by the cap does not move sweptAt', () => {
    const w = wm(5);
    const files = [file(1, 'l1.json', T0 + 6 * MIN), file(2, 'l2.json', T0 + 6 * MIN)];
    const p = plan({ watermark: w, files, listedAtMs: T0 + 7 * MIN, sweep: true, maxFiles: 1 });
    assert.deepEqual(
      p.take.map((f) => f.name),
      ['l1.json'],
    );
    assert.equal(p.delta.sweptAtMs, null);
    const w2 = applyDelta(w, p.delta);
    const p2 = plan({ watermark: w2, files, listedAtMs: T0 + 7 * MIN, sweep: true, maxFiles: 1 });
    assert.deepEqual(
      p2.take.map((f) => f.name),
      ['l2.json'],
    );
  });

  test('listing bounds: StartAfter sorts after the folder and before the next; reserved folders stop the walk', () => {
    const prefix = 'landing/T/';
    const folder = minuteFolder(T0);
    const keys = [
      `${prefix}${folder}/shardId-1_1_2.json`,
      `${prefix}${folder}/z.json`,
      `${prefix}${minuteFolder(T0 + MIN)}/a.json`,
    ];
    const after = startAfterKey(prefix, folder);
    assert.ok(keys[0]! < after && keys[1]! < after && keys[2]! > after);
    assert.deepEqual(classifyLandingKey(prefix, keys[0]!), {
      file: { folder, name: 'shardId-1_1_2.json' },
      stop: false,
    });
    assert.deepEqual(classifyLandingKey(prefix, `${prefix}_manifests/t/x.json`), { stop: true });
    assert.deepEqual(classifyLandingKey(prefix, `${prefix}_batches/s/1_2`), { stop: true });
    assert.deepEqual(classifyLandingKey(prefix, `${prefix}${folder}/x.tmp`), { stop: false });
    assert.deepEqual(classifyLandingKey(prefix, `${prefix}${folder}/sub/x.json`), { stop: false });
    assert.equal(listingStartFolder(wm(10), false, 30), minuteFolder(T0 + 10 * MIN));
    assert.equal(listingStartFolder(wm(10), true, 30), minuteFolder(T0 - 20 * MIN));
  });

  test('listedEnough counts only complete folders; completeFoldersOnly drops the last', () => {
    const files = [file(0, 'a.json'), file(0, 'b.json'), file(1, 'c.json')];
    const opts = { sweep: false, closeAfterMs: CLOSE, maxFiles: 1 };
    assert.equal(listedEnough(wm(-1), files, opts), true);
    assert.equal(listedEnough(wm(-1, { [minuteFolder(T0)]: ['a.json'] }), files, opts), false);
    assert.deepEqual(
      completeFoldersOnly(files).map((f) => f.name),
      ['a.json', 'b.json'],
    );
  });

  test('initial watermark starts two minutes before the export minute', () => {
    assert.equal(initialWatermark(T0 + 30_000).closedThrough, minuteFolder(T0 - 2 * MIN));
  });

  for (const initialSeed of [42, 7, 1234, 99, 2026])
    test(`simulation (seed ${initialSeed}): files written within the guarantee, late beyond it, failed jobs, caps — every file applied exactly once`, () => {
      // Deterministic pseudo-random numbers.
      let seed = initialSeed;
      const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      const writes: (LandingFile & { visibleAtMs: number })[] = [];
      const applied = new Map<string, number>();
      let w = initialWatermark(T0);
      let cycle = 0;
      const end = T0 + 40 * MIN;
      for (let now = T0; now < end + 10 * MIN; now += 7_000) {
        if (now < end) {
          for (let i = 0, n = Math.floor(rand() * 4); i < n; i++) {
            const start = now - Math.floor(rand() * 50_000); // a write started up to 50 s ago (deadline 60 s)
            const beyond = rand() < 0.05; // a writer that broke its deadline: visible minutes later
            const visibleAtMs = beyond ? now + Math.floor(rand() * 5 * MIN) : now;
            writes.push({
              folder: minuteFolder(start),
              name: `s${writes.length}.json`,
              lastModifiedMs: beyond ? visibleAtMs : start,
              size: 1,
              visibleAtMs,
            });
          }
        }
        cycle++;
        const sweep = cycle % 5 === 0;
        const from = listingStartFolder(w, sweep, 30);
        const files = writes
          .filter((f) => f.visibleAtMs <= now && f.folder > from)
          .map(({ visibleAtMs: _v, ...f }) => f)
          .sort((a, b) => (a.folder === b.folder ? (a.name < b.name ? -1 : 1) : a.folder < b.folder ? -1 : 1));
        const p = planBatch({
          watermark: w,
          files,
          listedAtMs: now,
          complete: true,
          sweep,
          closeAfterMs: CLOSE,
          maxFiles: 4,
        });
        if (p.take.length > 0 && rand() < 0.2) continue; // the job failed: nothing recorded
        for (const f of p.take) applied.set(`${f.folder}/${f.name}`, (applied.get(`${f.folder}/${f.name}`) ?? 0) + 1);
        w = applyDelta(w, p.delta);
      }
      assert.ok(writes.length > 300);
      const missing = writes.filter(
        (f) => !applied.has(`${f.folder}/${f.name}`) && f.folder > minuteFolder(T0 - 2 * MIN),
      );
      assert.deepEqual(
        missing.map((f) => f.name),
        [],
        'nothing skipped',
      );
      const twice = [...applied.entries()].filter(([, n]) => n > 1);
      assert.deepEqual(twice, [], 'nothing applied twice');
      assert.ok(w.closedThrough >= minuteFolder(end), `closed through ${w.closedThrough}`);
      assert.ok(Object.keys(w.open).length <= 3);
      assert.ok(minuteFolderStart(w.closedThrough) > 0);
    });
});
