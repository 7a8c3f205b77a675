/**
 * When each fault of a chaos run happens: reproducible from a seed, each kind `each` times, spread
 * over the write phase. Pure (no clock, no I/O), so the schedule itself is unit-tested.
 */
import { SeededRandom } from '../generate/random';

/** Every kind of fault the chaos run injects (tools/chaos/faults.ts; bench/README.md "chaos"). */
export const FAULT_KINDS = [
  'worker-kill',
  'spark-kill',
  'engine-kill',
  'temporal-restart',
  'poller-restart',
  'redeliver',
  'late-file',
  'bad-lines',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** Seconds after the writes started; a fault starts then, or when the one before it has ended. */
  atSeconds: number;
  /** Which occurrence of its kind (0-based): some faults vary by it (SIGKILL / SIGTERM, bad line kind). */
  occurrence: number;
}

export interface ScheduleOptions {
  seed: string;
  durationSeconds: number;
  each: number;
  kinds?: readonly FaultKind[];
}

/**
 * `kinds × each` faults in a random order, one per equal slot of the window from 10% to 80% of the
 * duration (the rest leaves room for the last faults' recovery while writes still run), each at a
 * random point of the first half of its slot. Same seed and settings, same schedule.
 */
export function planFaults(options: ScheduleOptions): PlannedFault[] {
  const kinds = options.kinds ?? FAULT_KINDS;
  if (!Number.isInteger(options.each) || options.each < 0)
    throw new Error(`each must be a whole number ≥ 0 (got ${options.each})`);
  if (!(options.durationSeconds > 0))
    throw new Error(`durationSeconds must be above 0 (got ${options.durationSeconds})`);
  const rng = new SeededRandom(`chaos-schedule:${options.seed}`);
  const order: FaultKind[] = [];
  for (let i = 0; i < options.each; i++) order.push(...kinds);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const start = options.durationSeconds * 0.1;
  const slot = order.length ? (options.durationSeconds * 0.7) / order.length : 0;
  const seen = new Map<FaultKind, number>();
  return order.map((kind, i) => {
    const occurrence = seen.get(kind) ?? 0;
    seen.set(kind, occurrence + 1);
    return { kind, occurrence, atSeconds: Math.round((start + slot * i + rng.next() * slot * 0.5) * 10) / 10 };
  });
}
