import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer indexes for every stored e-mail to update. Profiles of the ingestion benchmark showed
 * SQLite's COMMIT as the largest single cost: every index whose key is random (a Message-ID, a
 * customer address) dirties a page of its own per e-mail, and the commit writes each such page
 * whole. Two of them served nothing the inbound unique index could not:
 * - `ix_messages_message_id` indexed every message's Message-ID, inbound and outbound, although
 *   inbound ones are already in `uq_messages_inbound_message_id`; threading now looks up inbound
 *   ids there and outbound ones (our replies) in a partial index of their own.
 * - `ix_tickets_customer_email`: no query filters on the column (the `q` search matches a
 *   substring of `search_text`).
 * Ticket and message ids became time-ordered (UUID version 7) in the same change, so their
 * indexes grow at the end instead of at random pages; existing rows keep their ids.
 */
export class TimeOrderedKeys1795651200000 implements MigrationInterface {
  name = 'TimeOrderedKeys1795651200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_messages_outbound_message_id" ON "messages" ("message_id") WHERE "direction" = 'outbound'`,
    );
    await queryRunner.query(`DROP INDEX "ix_messages_message_id"`);
    await queryRunner.query(`DROP INDEX "ix_tickets_customer_email"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "ix_tickets_customer_email" ON "tickets" ("customer_email")`);
    await queryRunner.query(`CREATE INDEX "ix_messages_message_id" ON "messages" ("message_id")`);
    await queryRunner.query(`DROP INDEX "ix_messages_outbound_message_id"`);
  }
}
