import { SeededRandom } from './random';
import { randomNote, randomTransactionValues, type TransactionKey, type TransactionValues } from './transaction-model';

/** An item the run knows about; create_at is set when its insert is sent (it is the write time). */
interface ItemHandle {
  account: string;
  create_at?: string;
  /** Settles after the last operation planned for this item; the next one waits for it. */
  tail: Promise<void>;
  insertFailed: boolean;
}

export type InsertOp = { seq: number; kind: 'insert'; item: ItemHandle; values: TransactionValues };
export type PlannedOp =
  | InsertOp
  | { seq: number; kind: 'update'; item: ItemHandle; note: string }
  | { seq: number; kind: 'delete'; item: ItemHandle };

/**
 * Decides the operations, one after another, from the seed only (never from timing), so a seed
 * always gives the same sequence. Items are kept in an array with swap-remove for O(1) deletes.
 */
export class OperationPlanner {
  private readonly rng: SeededRandom;
  private readonly live: ItemHandle[];
  private seq = 0;

  constructor(
    seed: string,
    private readonly updateRatio: number,
    private readonly deleteRatio: number,
    existing: readonly TransactionKey[] = [],
  ) {
    this.rng = new SeededRandom(seed);
    this.live = existing.map((k) => ({
      account: k.account,
      create_at: k.create_at,
      tail: Promise.resolve(),
      insertFailed: false,
    }));
  }

  next(): PlannedOp {
    const seq = this.seq++;
    const roll = this.rng.next();
    if (this.live.length > 0 && roll < this.deleteRatio) {
      const index = this.rng.int(0, this.live.length - 1);
      const item = this.live[index]!;
      this.live[index] = this.live[this.live.length - 1]!;
      this.live.pop();
      return { seq, kind: 'delete', item };
    }
    if (this.live.length > 0 && roll < this.deleteRatio + this.updateRatio) {
      const item = this.live[this.rng.int(0, this.live.length - 1)]!;
      return { seq, kind: 'update', item, note: randomNote(this.rng) };
    }
    const values = randomTransactionValues(this.rng);
    const item: ItemHandle = { account: values.account, tail: Promise.resolve(), insertFailed: false };
    this.live.push(item);
    return { seq, kind: 'insert', item, values };
  }

  liveKeys(): TransactionKey[] {
    return this.live
      .filter((i) => i.create_at !== undefined && !i.insertFailed)
      .map((i) => ({ account: i.account, create_at: i.create_at! }));
  }
}
