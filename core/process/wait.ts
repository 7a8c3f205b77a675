import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waiting. A plain pause is `setTimeout` from `node:timers/promises` (with `{ signal }` when it must
 * end early); this module holds the two shapes built on it that recur: polling until something is
 * true, and a pause another part of the program can cut short.
 */

/**
 * Call `probe` until it returns a value other than undefined (→ that value), or `timeoutMs` has
 * passed (→ undefined). It is called at once, then every `everyMs`; whatever it throws is thrown.
 */
export async function pollFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs, everyMs = 100 }: { timeoutMs: number; everyMs?: number },
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(everyMs, Math.max(1, deadline - Date.now())));
  }
}

/** Sleep `ms`, or less if `signal` fires first; never rejects. */
export async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

/** One sleep at a time that `wake()` ends early (a stop, new work to do). */
export class WakeableSleep {
  private waking: AbortController | undefined;

  async sleep(ms: number): Promise<void> {
    const waking = new AbortController();
    this.waking = waking;
    await sleepUnlessAborted(ms, waking.signal);
    if (this.waking === waking) this.waking = undefined;
  }

  wake(): void {
    this.waking?.abort();
  }
}
