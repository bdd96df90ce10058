import type { MigrationInterface, QueryRunner } from 'typeorm';
import { sqlDialect } from '../sql-dialect.js';

/**
 * Tickets, messages and the audit trail. One migration for both databases: the SQL is shared and
 * only the types that differ (timestamps, auto-increment) and the ticket number generator are
 * chosen per dialect.
 */
export class InitialSchema1764140000000 implements MigrationInterface {
  name = 'InitialSchema1764140000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = sqlDialect(queryRunner.connection.options.type);
    const ts = dialect === 'postgres' ? 'timestamptz' : 'datetime';

    if (dialect === 'postgres') {
      // A sequence hands out ticket numbers without gaps in ordering and without races between
      // concurrent transactions (MAX()+1 would collide under load).
      await queryRunner.query(`CREATE SEQUENCE "tickets_number_seq" AS integer START WITH 1`);
    }
    const numberColumn =
      dialect === 'postgres'
        ? `"number" integer NOT NULL DEFAULT nextval('tickets_number_seq')`
        : // SQLite: assigned by the trigger below, inside the INSERT statement itself.
          `"number" integer`;

    await queryRunner.query(`
      CREATE TABLE "tickets" (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        ${numberColumn},
        "status" varchar(32) NOT NULL,
        "decision" varchar(32),
        "status_reason" text,
        "customer_email" varchar(320) NOT NULL,
        "customer_name" varchar(255),
        "subject" text NOT NULL,
        "issue_summary" text,
        "draft_reply" text,
        "confidence" real,
        "language" varchar(16),
        "kb_articles" text,
        "ai_model" varchar(64),
        "ai_prompt_version" varchar(32),
        "ai_prompt_tokens" integer,
        "ai_completion_tokens" integer,
        "ai_total_tokens" integer,
        "ai_latency_ms" integer,
        "revision" integer NOT NULL DEFAULT 1,
        "claim_token" varchar(36),
        "lease_expires_at" ${ts},
        "processing_attempts" integer NOT NULL DEFAULT 0,
        "search_text" text NOT NULL DEFAULT '',
        "created_at" ${ts} NOT NULL,
        "updated_at" ${ts} NOT NULL
      )`);
    if (dialect === 'postgres') {
      await queryRunner.query(`ALTER SEQUENCE "tickets_number_seq" OWNED BY "tickets"."number"`);
    } else {
      await queryRunner.query(`
        CREATE TRIGGER "tickets_assign_number" AFTER INSERT ON "tickets"
        FOR EACH ROW WHEN NEW."number" IS NULL
        BEGIN
          UPDATE "tickets" SET "number" = (SELECT COALESCE(MAX("number"), 0) + 1 FROM "tickets") WHERE "id" = NEW."id";
        END`);
    }
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_tickets_number" ON "tickets" ("number")`);
    await queryRunner.query(`CREATE INDEX "ix_tickets_status_lease" ON "tickets" ("status", "lease_expires_at")`);
    await queryRunner.query(`CREATE INDEX "ix_tickets_created_at" ON "tickets" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "ix_tickets_customer_email" ON "tickets" ("customer_email")`);

    await queryRunner.query(`
      CREATE TABLE "messages" (
        "id" varchar(36) NOT NULL PRIMARY KEY,
        "ticket_id" varchar(36) NOT NULL REFERENCES "tickets" ("id") ON DELETE CASCADE,
        "direction" varchar(8) NOT NULL,
        "channel" varchar(16) NOT NULL,
        "kind" varchar(16) NOT NULL,
        "message_id" varchar(998),
        "rfc_message_id" varchar(998),
        "in_reply_to" varchar(998),
        "references" text NOT NULL,
        "from_address" varchar(320),
        "from_name" varchar(255),
        "to_addresses" text NOT NULL,
        "cc_addresses" text NOT NULL,
        "reply_to" varchar(320),
        "recipient_key" varchar(320),
        "subject" text,
        "text" text,
        "html" text,
        "clean_text" text,
        "headers" text,
        "attachments" text,
        "received_at" ${ts},
        "delivery_status" varchar(16) NOT NULL,
        "ignored_reason" text,
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" ${ts},
        "claim_token" varchar(36),
        "lease_expires_at" ${ts},
        "last_error" text,
        "provider_response" text,
        "external_id" varchar(64),
        "sent_at" ${ts},
        "created_at" ${ts} NOT NULL,
        "updated_at" ${ts} NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX "ix_messages_ticket" ON "messages" ("ticket_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "ix_messages_message_id" ON "messages" ("message_id")`);
    // The de-duplication key: two deliveries of one e-mail, even racing, make one message.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_messages_inbound_message_id" ON "messages" ("message_id") WHERE "direction" = 'inbound'`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_messages_outbox" ON "messages" ("delivery_status", "next_attempt_at") WHERE "direction" = 'outbound'`,
    );
    await queryRunner.query(`CREATE INDEX "ix_messages_recipient" ON "messages" ("recipient_key", "created_at")`);

    const eventId = dialect === 'postgres' ? `"id" serial PRIMARY KEY` : `"id" integer PRIMARY KEY AUTOINCREMENT`;
    await queryRunner.query(`
      CREATE TABLE "ticket_events" (
        ${eventId},
        "ticket_id" varchar(36) NOT NULL REFERENCES "tickets" ("id") ON DELETE CASCADE,
        "type" varchar(64) NOT NULL,
        "message" text NOT NULL,
        "data" text,
        "created_at" ${ts} NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX "ix_ticket_events_ticket" ON "ticket_events" ("ticket_id", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const dialect = sqlDialect(queryRunner.connection.options.type);
    await queryRunner.query(`DROP TABLE "ticket_events"`);
    await queryRunner.query(`DROP TABLE "messages"`);
    await queryRunner.query(`DROP TABLE "tickets"`);
    if (dialect === 'postgres') await queryRunner.query(`DROP SEQUENCE IF EXISTS "tickets_number_seq"`);
  }
}
