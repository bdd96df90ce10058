import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AsyncLock } from '../common/async-lock.js';
import { type SqlDialect, sqlDialect } from './sql-dialect.js';

/**
 * The only way the code touches the database. On PostgreSQL every transaction gets its own pooled
 * connection. On SQLite TypeORM shares a single connection, so two interleaved transactions would
 * nest as savepoints and read each other's uncommitted rows; here they are serialised instead
 * (better-sqlite3 is synchronous, so this costs almost nothing).
 *
 * Inside `transaction`/`read` use only the EntityManager handed in: calling back into UnitOfWork
 * from there would wait for itself on SQLite.
 */
@Injectable()
export class UnitOfWork {
  readonly dialect: SqlDialect;
  private readonly sqliteLock: AsyncLock | null;

  constructor(readonly dataSource: DataSource) {
    this.dialect = sqlDialect(dataSource.options.type);
    this.sqliteLock = this.dialect === 'sqlite' ? new AsyncLock() : null;
  }

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const run = () => this.dataSource.transaction(work);
    return this.sqliteLock ? this.sqliteLock.run(run) : run();
  }

  read<T>(work: (db: EntityManager) => Promise<T>): Promise<T> {
    const run = () => work(this.dataSource.manager);
    return this.sqliteLock ? this.sqliteLock.run(run) : run();
  }

  /** Runs `work` in the given transaction, or in a new one. */
  within<T>(tx: EntityManager | undefined, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return tx ? work(tx) : this.transaction(work);
  }

  /** Reads through the given transaction, or on its own. */
  readWithin<T>(tx: EntityManager | undefined, work: (db: EntityManager) => Promise<T>): Promise<T> {
    return tx ? work(tx) : this.read(work);
  }
}
