import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sqlDialect } from './sql-dialect.js';

/** Arbitrary but fixed: every replica takes this PostgreSQL advisory lock to migrate one at a time. */
const MIGRATION_LOCK_KEY = 7_310_452_991;

/**
 * Applies pending migrations at boot, before anything else touches the tables. Replicas starting
 * together on one PostgreSQL database take turns through an advisory lock, so a migration never
 * runs twice.
 */
@Injectable()
export class DatabaseMigrator implements OnModuleInit {
  private readonly logger = new Logger(DatabaseMigrator.name);
  private applied = false;

  constructor(private readonly dataSource: DataSource) {}

  get isComplete(): boolean {
    return this.applied;
  }

  async onModuleInit(): Promise<void> {
    await this.migrate();
  }

  async migrate(): Promise<void> {
    const dialect = sqlDialect(this.dataSource.options.type);
    const runner = this.dataSource.createQueryRunner();
    let locked = false;
    try {
      if (dialect === 'postgres') {
        await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        locked = true;
      }
      const executed = await this.dataSource.runMigrations({ transaction: 'each' });
      for (const migration of executed) this.logger.log({ msg: 'migration applied', migration: migration.name });
    } finally {
      // Also after a failed migration: the lock is the session's, and the session goes back to the pool.
      if (locked) await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      await runner.release();
    }
    this.applied = true;
  }

  /** True while the database has migrations left to apply (readiness is false then). */
  async hasPendingMigrations(): Promise<boolean> {
    return this.dataSource.showMigrations();
  }
}
