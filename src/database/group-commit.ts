import type { EntityManager } from 'typeorm';
import type { UnitOfWork } from './unit-of-work.js';

interface Pending<T> {
  work: (tx: EntityManager) => Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: units of work submitted while a transaction is running share the next one, each
 * inside its own savepoint. One failing unit (a duplicate key, say) rolls back to its savepoint and
 * fails alone; the others commit together. Under load this turns hundreds of tiny transactions a
 * second into a few larger ones — on SQLite, its one writer, a commit costs far more than the
 * inserts it carries — and adds no latency when idle (a lone unit runs in a plain transaction at
 * once). One transaction runs at a time.
 */
export class GroupCommit<T> {
  private readonly queue: Array<Pending<T>> = [];
  private running = false;
  private scheduled = false;

  constructor(
    private readonly uow: UnitOfWork,
    /** Units per transaction at most. */
    private readonly maxBatch: number,
  ) {}

  run(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      if (!this.scheduled && !this.running) {
        this.scheduled = true;
        // Let the requests that arrived in this turn of the event loop join the first batch.
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = true;
    void (batch.length === 1 ? this.runAlone(batch[0]) : this.runTogether(batch)).finally(() => {
      this.running = false;
      this.pump();
    });
  }

  private async runAlone(item: Pending<T>): Promise<void> {
    try {
      item.resolve(await this.uow.transaction(item.work));
    } catch (error) {
      item.reject(error);
    }
  }

  private async runTogether(batch: Array<Pending<T>>): Promise<void> {
    const outcomes: Array<{ value: T } | { error: unknown }> = [];
    try {
      await this.uow.transaction(async (tx) => {
        // One savepoint name for every unit (each is released before the next opens): the same
        // three statements every time stay in the driver's prepared-statement cache, where
        // per-unit names pushed the INSERTs out and had them prepared again.
        for (const item of batch) {
          await tx.query('SAVEPOINT unit');
          try {
            const value = await item.work(tx);
            await tx.query('RELEASE SAVEPOINT unit');
            outcomes.push({ value });
          } catch (error) {
            await tx.query('ROLLBACK TO SAVEPOINT unit');
            await tx.query('RELEASE SAVEPOINT unit');
            outcomes.push({ error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing of the batch was stored.
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index];
      if ('value' in outcome) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
