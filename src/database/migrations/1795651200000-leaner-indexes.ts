import type { MigrationInterface, QueryRunner } from 'typeorm';

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
 *   without sorting every ticket of that status; the queue's sweep reads waiting tickets from it
 *   in created_at order and filters the few `processing` ones by their lease.
 * Ticket and message ids became time-ordered (UUID version 7) in the same change, so their
 * indexes grow at the end instead of at random pages; existing rows keep their ids.
 */
export class LeanerIndexes1795651200000 implements MigrationInterface {
  name = 'LeanerIndexes1795651200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_messages_outbound_message_id" ON "messages" ("message_id") WHERE "direction" = 'outbound'`,
    );
    await queryRunner.query(`DROP INDEX "ix_messages_message_id"`);
    await queryRunner.query(`DROP INDEX "ix_tickets_customer_email"`);
    await queryRunner.query(`CREATE INDEX "ix_tickets_status_created" ON "tickets" ("status", "created_at")`);
    await queryRunner.query(`DROP INDEX "ix_tickets_status_lease"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "ix_tickets_status_lease" ON "tickets" ("status", "lease_expires_at")`);
    await queryRunner.query(`DROP INDEX "ix_tickets_status_created"`);
    await queryRunner.query(`CREATE INDEX "ix_tickets_customer_email" ON "tickets" ("customer_email")`);
    await queryRunner.query(`CREATE INDEX "ix_messages_message_id" ON "messages" ("message_id")`);
    await queryRunner.query(`DROP INDEX "ix_messages_outbound_message_id"`);
  }
}
