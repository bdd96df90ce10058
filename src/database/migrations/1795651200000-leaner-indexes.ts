import type { MigrationInterface, QueryRunner } from 'typeorm';
import { sqlDialect } from '../sql-dialect.js';

/**
 * Fewer indexes for every stored e-mail to update, and the rest shaped for the queries that run.
 * Profiles of the ingestion benchmark showed SQLite's COMMIT as the largest single cost: every
 * index whose key is random (a Message-ID, a customer address, a version 4 UUID) dirties a page
 * of its own per e-mail, and the commit writes each such page whole.
 * - `ix_messages_message_id` indexed every message's Message-ID, inbound and outbound, although
 *   inbound ones are already in `uq_messages_inbound_message_id`; threading now looks up inbound
 *   ids there and outbound ones (our replies) in a partial index of their own.
 * - `ix_tickets_customer_email`: no query filters on the column (the `q` search matches a
 *   substring of `search_text`).
 * - `ix_tickets_status_lease` (status, lease_expires_at) becomes (status, created_at): as many
 *   indexes, but this one also serves the operators' list filtered by status, newest first,
 *   without sorting every ticket of that status; the queue's sweep still finds waiting tickets
 *   and the few `processing` ones (then filtered by their lease) through it.
 * Ticket and message ids became time-ordered (UUID version 7) in the same change, so their
 * indexes grow at the end instead of at random pages; existing rows keep their ids.
 *
 * Safe to run under traffic: outside a transaction, and on PostgreSQL with CONCURRENTLY, so
 * building an index over a large table never blocks the webhook's inserts (a plain CREATE INDEX
 * would, and a DROP INDEX in a transaction would block even reads until the commit). Every step
 * may be repeated: a run that stopped halfway (a killed pod, a failed concurrent build, which
 * leaves an invalid index behind) is completed by the next boot.
 * The new indexes are built before the old ones go. Pods of the previous version still running
 * during a rolling update look Message-IDs up without the direction and scan `messages` until
 * they are replaced; acceptable for this, the first release. From here on, an index goes in a
 * release after the one whose code stops using it.
 */
export class LeanerIndexes1795651200000 implements MigrationInterface {
  name = 'LeanerIndexes1795651200000';
  /** CONCURRENTLY cannot run inside a transaction block. */
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    const ddl = indexDdl(queryRunner, sqlDialect(queryRunner.connection.options.type) === 'postgres');
    await ddl.create('ix_messages_outbound_message_id', `"messages" ("message_id") WHERE "direction" = 'outbound'`);
    await ddl.create('ix_tickets_status_created', `"tickets" ("status", "created_at")`);
    await ddl.drop('ix_messages_message_id');
    await ddl.drop('ix_tickets_customer_email');
    await ddl.drop('ix_tickets_status_lease');
  }

  /**
   * Plain statements: TypeORM reverts inside a transaction whatever `transaction` says (and a
   * revert is a maintenance step, not one taken under traffic).
   */
  async down(queryRunner: QueryRunner): Promise<void> {
    const ddl = indexDdl(queryRunner, false);
    await ddl.create('ix_tickets_status_lease', `"tickets" ("status", "lease_expires_at")`);
    await ddl.create('ix_tickets_customer_email', `"tickets" ("customer_email")`);
    await ddl.create('ix_messages_message_id', `"messages" ("message_id")`);
    await ddl.drop('ix_tickets_status_created');
    await ddl.drop('ix_messages_outbound_message_id');
  }
}

/** Repeatable index statements; CONCURRENTLY only exists on PostgreSQL. */
function indexDdl(queryRunner: QueryRunner, concurrent: boolean) {
  const concurrently = concurrent ? ' CONCURRENTLY' : '';
  const drop = (name: string) => queryRunner.query(`DROP INDEX${concurrently} IF EXISTS "${name}"`);
  return {
    drop,
    // Dropped first: IF NOT EXISTS would keep the invalid index a failed concurrent build leaves.
    create: async (name: string, on: string) => {
      await drop(name);
      await queryRunner.query(`CREATE INDEX${concurrently} "${name}" ON ${on}`);
    },
  };
}
