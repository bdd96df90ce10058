import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type EntityMetadata, type EntityTarget, type ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { AsyncLock } from '../common/async-lock.js';
import { type SqlDialect, sqlDialect } from './sql-dialect.js';

/** First half of our advisory-lock keys, so they never meet another application's on the same server. */
const ADVISORY_NAMESPACE = 0x61697370; // "aisp"

/** A 32-bit FNV-1a hash as a signed int4, for advisory-lock keys. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** Rows for one table of a combined INSERT (`UnitOfWork.insertTogether`). */
export interface InsertPart {
  target: EntityTarget<ObjectLiteral>;
  rows: readonly ObjectLiteral[];
  /** A column to read back (the first part's only). */
  returning?: string;
}

/**
 * What a statement written as SQL gets to refer to its entity by property names: `v(property,
 * value)` a placeholder for a value converted as that property's column stores it, `set(patch)`
 * an UPDATE's assignments for the defined keys of a patch.
 */
export interface SqlParts<T> {
  v(property: keyof T & string, value: unknown): string;
  set(patch: Partial<T>): string;
}

/** A column whose value the database computes within the INSERT: `sql` is an SQL expression. */
export interface ComputedColumn {
  column: string;
  sql: string;
}

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

  /**
   * Serialises transactions that share `key` until the end of `tx` (check-then-insert rules such as
   * AUTO_REPLY_LIMIT). PostgreSQL: a transaction-scoped advisory lock. SQLite: transactions are
   * already one at a time.
   */
  async lockFor(tx: EntityManager, key: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_NAMESPACE, fnv1a32(key)]);
  }

  /**
   * Inserts whole rows with one plain INSERT, values converted by TypeORM's own driver from the
   * entity metadata. The query builder costs several times the insert itself on the ingestion
   * and processing paths; this keeps the same column mapping without it. `returning` reads back
   * database-assigned columns. `computed` gives one column of a single row as an SQL expression
   * the database evaluates within the INSERT (SQLite's ticket number, where RETURNING cannot see
   * what an AFTER trigger assigns).
   */
  async insertRows<T extends ObjectLiteral>(
    tx: EntityManager,
    target: EntityTarget<T>,
    rows: readonly T[],
    returning?: string,
    computed?: ComputedColumn,
  ): Promise<Array<Record<string, unknown>>> {
    if (rows.length === 0) return [];
    if (computed && rows.length > 1) throw new Error('a computed column is for single-row inserts');
    const { sql, columns } = this.insertStatement(target, rows.length, returning, 0, computed);
    const result: unknown = await tx.query(sql, this.valuesOf(rows, columns));
    return Array.isArray(result) ? (result as Array<Record<string, unknown>>) : [];
  }

  /**
   * PostgreSQL only: rows for several tables in one statement (data-modifying CTEs), atomic with no
   * transaction around it, so one round trip does what BEGIN, an INSERT per table and COMMIT did in
   * five. Foreign keys between the parts are checked at the end of the statement. Answers the rows
   * of the first part's `returning` column.
   */
  async insertTogether(parts: ReadonlyArray<InsertPart>): Promise<Array<Record<string, unknown>>> {
    if (this.dialect !== 'postgres') throw new Error('insertTogether needs PostgreSQL (SQLite has no INSERT in WITH)');
    const key = `together:${parts.map((p) => `${this.dataSource.getMetadata(p.target).tableName}:${p.rows.length}:${p.returning ?? ''}`).join('|')}`;
    let statement = this.combined.get(key);
    if (!statement) {
      let offset = 0;
      const built = parts.map((part, index) => {
        const { sql, columns } = this.insertStatement(part.target, part.rows.length, part.returning, offset);
        offset += columns.length * part.rows.length;
        return { cte: `p${index} AS (${sql})`, columns };
      });
      const sql = `WITH ${built.map((b) => b.cte).join(', ')} SELECT * FROM p0`;
      statement = { sql, columns: built.map((b) => b.columns) };
      if (this.combined.size < 64) this.combined.set(key, statement);
    }
    const params = parts.flatMap((part, index) => this.valuesOf(part.rows, statement.columns[index]));
    const result: unknown = await this.dataSource.query(statement.sql, params);
    return Array.isArray(result) ? (result as Array<Record<string, unknown>>) : [];
  }

  /**
   * One `UPDATE … RETURNING *`, atomic on its own: a conditional update and the read of the row it
   * changed in a single statement (the claims), where a transaction took BEGIN, UPDATE, SELECT and
   * COMMIT. `sql` writes the statement without RETURNING (see SqlParts). Answers the changed rows
   * as entities. (TypeORM's builder offers RETURNING on PostgreSQL only; SQLite has it since 3.35.)
   */
  async updateReturning<T extends ObjectLiteral>(target: EntityTarget<T>, sql: (q: SqlParts<T>) => string): Promise<T[]> {
    const { text, params, metadata } = this.compile(target, sql);
    const result: unknown = await this.read((db) => db.query(`${text} RETURNING *`, params));
    return this.hydrate(metadata, this.returnedRows(result));
  }

  /**
   * An UPDATE or DELETE written as SQL (see SqlParts), in `db` (a transaction, or the plain
   * manager): the number of rows it changed. TypeORM's `update()` builds the same statement
   * through its query builder at several times the cost of running it, on paths that run it for
   * every ticket and every delivery.
   */
  async change<T extends ObjectLiteral>(db: EntityManager, target: EntityTarget<T>, sql: (q: SqlParts<T>) => string): Promise<number> {
    const { text, params } = this.compile(target, sql);
    // RETURNING counts the rows on both databases: TypeORM answers a plain UPDATE differently on each.
    return this.returnedRows(await db.query(`${text} RETURNING 1 AS "changed"`, params)).length;
  }

  /** A SELECT of whole columns written as SQL (see SqlParts): the rows as entities (only the columns selected are set). */
  async select<T extends ObjectLiteral>(db: EntityManager, target: EntityTarget<T>, sql: (q: SqlParts<T>) => string): Promise<T[]> {
    const { text, params, metadata } = this.compile(target, sql);
    return this.hydrate(metadata, (await db.query(text, params)) as Array<Record<string, unknown>>);
  }

  /** The first row of `select`, or null. */
  async selectOne<T extends ObjectLiteral>(db: EntityManager, target: EntityTarget<T>, sql: (q: SqlParts<T>) => string): Promise<T | null> {
    const [row] = await this.select(db, target, sql);
    return row ?? null;
  }

  /** A SELECT of computed values (counts, minimums) written as SQL (see SqlParts): the raw rows. */
  async selectRaw<T extends ObjectLiteral>(db: EntityManager, target: EntityTarget<T>, sql: (q: SqlParts<T>) => string): Promise<Array<Record<string, unknown>>> {
    const { text, params } = this.compile(target, sql);
    return (await db.query(text, params)) as Array<Record<string, unknown>>;
  }

  private compile<T extends ObjectLiteral>(target: EntityTarget<T>, sql: (q: SqlParts<T>) => string) {
    const metadata = this.dataSource.getMetadata(target);
    const driver = this.dataSource.driver;
    const params: unknown[] = [];
    const columnOf = (property: string) => {
      const column = metadata.findColumnWithPropertyName(property);
      if (!column) throw new Error(`${metadata.name} has no column for ${property}`);
      return column;
    };
    const value = (property: string, raw: unknown) => {
      params.push(driver.preparePersistentValue(raw, columnOf(property)));
      return this.dialect === 'postgres' ? `$${params.length}` : '?';
    };
    const parts: SqlParts<T> = {
      v: value,
      set: (patch) =>
        Object.entries(patch)
          .filter(([, item]) => item !== undefined)
          .map(([property, item]) => `"${columnOf(property).databaseName}" = ${value(property, item)}`)
          .join(', '),
    };
    const text = sql(parts);
    return { text, params, metadata };
  }

  /** PostgreSQL answers a statement with RETURNING as [rows, count]; SQLite as the rows. */
  private returnedRows(result: unknown): Array<Record<string, unknown>> {
    if (this.dialect === 'postgres' && Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
      return result[0] as Array<Record<string, unknown>>;
    }
    return result as Array<Record<string, unknown>>;
  }

  private hydrate<T extends ObjectLiteral>(metadata: EntityMetadata, rows: Array<Record<string, unknown>>): T[] {
    const driver = this.dataSource.driver;
    return rows.map((raw) => {
      const entity = metadata.create() as T;
      for (const column of metadata.columns) {
        // Columns declared `select: false` stay unset, as TypeORM's own reads leave them.
        if (column.isSelect && column.databaseName in raw) column.setEntityValue(entity, driver.prepareHydratedValue(raw[column.databaseName], column));
      }
      return entity;
    });
  }

  private valuesOf(rows: readonly ObjectLiteral[], columns: ColumnMetadata[]): unknown[] {
    const driver = this.dataSource.driver;
    return rows.flatMap((row) => columns.map((column) => driver.preparePersistentValue(column.getEntityValue(row) ?? null, column)));
  }

  private readonly statements = new Map<string, { sql: string; columns: ColumnMetadata[] }>();
  private readonly combined = new Map<string, { sql: string; columns: ColumnMetadata[][] }>();

  /** `firstPlaceholder`: PostgreSQL's $n numbering starts after it (a part of a combined statement). */
  private insertStatement(target: EntityTarget<ObjectLiteral>, rowCount: number, returning?: string, firstPlaceholder = 0, computed?: ComputedColumn) {
    const metadata = this.dataSource.getMetadata(target);
    const key = `${metadata.tableName}:${rowCount}:${returning ?? ''}:${firstPlaceholder}:${computed ? `${computed.column}=${computed.sql}` : ''}`;
    let statement = this.statements.get(key);
    if (!statement) {
      const columns = metadata.columns.filter((column) => column.isInsert && column.generationStrategy !== 'increment');
      let index = firstPlaceholder;
      const placeholder = () => (this.dialect === 'postgres' ? `$${++index}` : '?');
      const names = columns.map((c) => `"${c.databaseName}"`);
      const row = () => [...columns.map(placeholder), ...(computed ? [`(${computed.sql})`] : [])].join(', ');
      if (computed) names.push(`"${computed.column}"`);
      const values = Array.from({ length: rowCount }, () => `(${row()})`).join(', ');
      const sql = `INSERT INTO "${metadata.tableName}" (${names.join(', ')}) VALUES ${values}` + (returning ? ` RETURNING "${returning}"` : '');
      statement = { sql, columns };
      if (this.statements.size < 256) this.statements.set(key, statement);
    }
    return statement;
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
