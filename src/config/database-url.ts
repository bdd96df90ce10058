/**
 * DATABASE_URL parsing. Pure: no file system, no network. The same result feeds the app's
 * TypeORM options and the TypeORM CLI data source (ormconfig.ts), so both always agree.
 */

export type DatabaseConfig = SqliteDatabaseConfig | PostgresDatabaseConfig;

export interface SqliteDatabaseConfig {
  readonly type: 'sqlite';
  /** A file path, or `:memory:`. */
  readonly path: string;
}

export interface PostgresDatabaseConfig {
  readonly type: 'postgres';
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly database: string;
  /** `false`: plain TCP; `{ rejectUnauthorized }`: TLS (sslmode=require does not verify the certificate). */
  readonly ssl: false | { rejectUnauthorized: boolean };
}

export class DatabaseUrlError extends Error {}

export const SQLITE_MEMORY = ':memory:';

const SUPPORTED_FORMS =
  'use sqlite:<path>, sqlite::memory:, postgres://user:pass@host:5432/db or postgresql://… ' +
  '(sqlite+aiosqlite:///./x.db and postgresql+asyncpg://… are accepted too)';

/**
 * Accepts:
 * - `sqlite:<path>` and `sqlite::memory:`;
 * - SQLAlchemy forms the Python seed used: `sqlite:///relative.db`, `sqlite:////absolute.db`,
 *   `sqlite+aiosqlite:///./x.db`, `sqlite+aiosqlite:///:memory:`;
 * - `postgres://…`, `postgresql://…`, `postgresql+asyncpg://…` with `sslmode`/`ssl` query options.
 */
export function parseDatabaseUrl(raw: string): DatabaseConfig {
  const url = raw.trim();
  if (!url) throw new DatabaseUrlError(`is empty; ${SUPPORTED_FORMS}`);

  const schemeMatch = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  if (!schemeMatch) throw new DatabaseUrlError(`has no scheme; ${SUPPORTED_FORMS}`);
  const [scheme, driver] = schemeMatch[1].toLowerCase().split('+', 2);

  if (scheme === 'sqlite') {
    if (driver && driver !== 'aiosqlite' && driver !== 'pysqlite') {
      throw new DatabaseUrlError(`uses the unknown SQLite driver "${driver}"; ${SUPPORTED_FORMS}`);
    }
    return { type: 'sqlite', path: sqlitePath(url.slice(schemeMatch[0].length)) };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    if (driver && !['asyncpg', 'psycopg', 'psycopg2', 'pg8000'].includes(driver)) {
      throw new DatabaseUrlError(`uses the unknown PostgreSQL driver "${driver}"; ${SUPPORTED_FORMS}`);
    }
    return postgresConfig(url.slice(schemeMatch[0].length));
  }
  throw new DatabaseUrlError(`uses the unsupported scheme "${schemeMatch[1]}"; ${SUPPORTED_FORMS}`);
}

function sqlitePath(rest: string): string {
  let path: string;
  if (rest.startsWith('//')) {
    // SQLAlchemy: sqlite:///relative.db, sqlite:////absolute.db, sqlite:// (memory).
    const afterAuthority = rest.slice(2);
    if (afterAuthority === '') return SQLITE_MEMORY;
    if (!afterAuthority.startsWith('/')) {
      throw new DatabaseUrlError(`has a host in a SQLite URL; ${SUPPORTED_FORMS}`);
    }
    path = afterAuthority.slice(1);
  } else {
    path = rest;
  }
  path = decodeURIComponent(path.split('?', 1)[0]);
  if (path === '' ) throw new DatabaseUrlError(`names no SQLite file; ${SUPPORTED_FORMS}`);
  if (path === SQLITE_MEMORY) return SQLITE_MEMORY;
  return path;
}

function postgresConfig(rest: string): PostgresDatabaseConfig {
  let url: URL;
  try {
    url = new URL(`postgres:${rest}`);
  } catch {
    throw new DatabaseUrlError(`is not a valid PostgreSQL URL; ${SUPPORTED_FORMS}`);
  }
  if (!url.hostname) throw new DatabaseUrlError(`names no PostgreSQL host; ${SUPPORTED_FORMS}`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new DatabaseUrlError(`names no PostgreSQL database (postgres://host:5432/<database>)`);
  const port = url.port ? Number(url.port) : 5432;

  const sslMode = (url.searchParams.get('sslmode') ?? url.searchParams.get('ssl') ?? 'disable').toLowerCase();
  let ssl: PostgresDatabaseConfig['ssl'];
  switch (sslMode) {
    case 'disable':
    case 'false':
    case 'allow':
    case 'prefer':
      ssl = false;
      break;
    case 'require':
    case 'true':
      ssl = { rejectUnauthorized: false };
      break;
    case 'verify-ca':
    case 'verify-full':
      ssl = { rejectUnauthorized: true };
      break;
    default:
      throw new DatabaseUrlError(`has an unknown sslmode "${sslMode}" (disable, require, verify-ca, verify-full)`);
  }

  return {
    type: 'postgres',
    host: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')),
    port,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    ssl,
  };
}

/** A form safe to log: never the password. */
export function describeDatabase(config: DatabaseConfig): string {
  if (config.type === 'sqlite') return `sqlite:${config.path}`;
  return `postgres://${config.username ? `${config.username}@` : ''}${config.host}:${config.port}/${config.database}`;
}
