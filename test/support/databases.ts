import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type DatabaseKind = 'sqlite' | 'postgres';

/** Test databases are named so that the set-up can refuse to touch anything else. */
const TEST_DATABASE_PREFIX = 'ai_support_test_';

/**
 * The databases the database-backed suites run on: SQLite always, PostgreSQL when
 * TEST_POSTGRES_URL names a server (`.ci/run` sets it; see the README).
 */
export function testDatabases(): DatabaseKind[] {
  return process.env.TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDatabase {
  kind: DatabaseKind;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database: a new SQLite file in a temp folder, or a new PostgreSQL database. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ai-support-db-'));
    return {
      kind,
      url: `sqlite:${join(dir, 'nested', 'ai-support.sqlite')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const adminUrl = process.env.TEST_POSTGRES_URL;
  if (!adminUrl) throw new Error('TEST_POSTGRES_URL is not set');
  const name = `${TEST_DATABASE_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  assertTestDatabaseName(name);
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      assertTestDatabaseName(name);
      await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Runs SQL against a test database directly (assertions on what the service stored). */
export async function queryTestDatabase<T = Record<string, unknown>>(database: TestDatabase, sql: string, params: unknown[] = []): Promise<T[]> {
  if (database.kind !== 'postgres') throw new Error('queryTestDatabase is for PostgreSQL; use the app DataSource for SQLite');
  return withAdmin(database.url, async (client) => (await client.query(sql, params)).rows as T[]);
}

function assertTestDatabaseName(name: string): void {
  if (!name.startsWith(TEST_DATABASE_PREFIX)) {
    throw new Error(`Refusing to use database "${name}": test databases must be named ${TEST_DATABASE_PREFIX}*`);
  }
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
