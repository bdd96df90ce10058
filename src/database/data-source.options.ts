import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { type DatabaseConfig, SQLITE_MEMORY } from '../config/database-url.js';
import { Message } from '../tickets/entities/message.entity.js';
import { TicketEvent } from '../tickets/entities/ticket-event.entity.js';
import { Ticket } from '../tickets/entities/ticket.entity.js';
import { InitialSchema1764140000000 } from './migrations/1764140000000-initial-schema.js';
import { LeanerIndexes1795651200000 } from './migrations/1795651200000-leaner-indexes.js';

export const ENTITIES = [Ticket, Message, TicketEvent];
/** In order. Classes rather than a glob, so the list is the same from src/, dist/ and the tests. */
export const MIGRATIONS = [InitialSchema1764140000000, LeanerIndexes1795651200000];

/**
 * The one builder of TypeORM options: the application (DatabaseModule) and the TypeORM CLI
 * (ormconfig.ts) both call it. Schema changes only ever come from MIGRATIONS.
 */
export function buildDataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;

  if (database.type === 'sqlite') {
    const path = database.path === SQLITE_MEMORY ? SQLITE_MEMORY : resolve(database.path);
    if (path !== SQLITE_MEMORY) mkdirSync(dirname(path), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: path,
      enableWAL: path !== SQLITE_MEMORY,
      // Another process (the CLI, a second replica) may hold the write lock briefly.
      timeout: 5000,
      // Prepared statements kept per connection (TypeORM's default is 100, evicted first-in first-out).
      statementCacheSize: 500,
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        // WAL + NORMAL is durable across process crashes; only an OS crash can lose the last commits.
        db.pragma('synchronous = NORMAL');
        // The WAL file is truncated back to this size after checkpoints (see SqliteCheckpointer).
        db.pragma('journal_size_limit = 67108864');
      },
    };
  }
  return {
    ...common,
    type: 'postgres',
    host: database.host,
    port: database.port,
    username: database.username,
    password: database.password,
    database: database.database,
    ssl: database.ssl,
    applicationName: 'ai-support',
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}
