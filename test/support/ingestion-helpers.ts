import { customerEmail, type EmailJson, outboxSettled, postEmail, type TicketDetail, waitForTicket } from './http.js';
import type { Stack } from './stack.js';
import type { TestApp } from './test-app.js';

/**
 * Helpers shared by the ingestion suites (webhook-*.e2e.spec.ts, queue-*.e2e.spec.ts): direct reads
 * of what the service stored, a barrier that proves background processing has caught up, and
 * waiting on conditions other than a ticket's state.
 */

/** Runs SQL through the app's own DataSource; write `$1, $2…` placeholders, they are adapted for SQLite. */
export async function dbQuery<T = Record<string, unknown>>(t: TestApp, sql: string, params: unknown[] = []): Promise<T[]> {
  const isSqlite = t.dataSource.options.type !== 'postgres';
  const text = isSqlite ? sql.replace(/\$\d+/g, '?') : sql;
  return (await t.dataSource.query(text, params)) as T[];
}

export interface TableCounts {
  tickets: number;
  messages: number;
  events: number;
}

/** Rows in every table the webhook writes: "nothing changed" means these did not move. */
export async function tableCounts(t: TestApp): Promise<TableCounts> {
  const [row] = await dbQuery<{ tickets: number | string; messages: number | string; events: number | string }>(
    t,
    `SELECT (SELECT COUNT(*) FROM "tickets") AS "tickets", (SELECT COUNT(*) FROM "messages") AS "messages", (SELECT COUNT(*) FROM "ticket_events") AS "events"`,
  );
  return { tickets: Number(row.tickets), messages: Number(row.messages), events: Number(row.events) };
}

export interface StoredInbound {
  ticketId: string;
  messageId: string;
  text: string | null;
  html: string | null;
  cleanText: string | null;
  fromAddress: string | null;
  fromName: string | null;
  subject: string | null;
  deliveryStatus: string;
  ignoredReason: string | null;
  headers: Record<string, string> | null;
  attachments: Array<{ filename: string | null; contentType: string | null; size: number | null }> | null;
}

/** The stored inbound message with this (normalised) Message-ID, with the columns the API does not show. */
export async function storedInbound(t: TestApp, messageId: string): Promise<StoredInbound | null> {
  const rows = await dbQuery<Record<string, string | null>>(
    t,
    `SELECT "ticket_id", "message_id", "text", "html", "clean_text", "from_address", "from_name", "subject", "delivery_status", "ignored_reason", "headers", "attachments"
       FROM "messages" WHERE "direction" = 'inbound' AND "message_id" = $1`,
    [messageId],
  );
  if (rows.length === 0) return null;
  const row = rows[0];
  return {
    ticketId: row.ticket_id!,
    messageId: row.message_id!,
    text: row.text,
    html: row.html,
    cleanText: row.clean_text,
    fromAddress: row.from_address,
    fromName: row.from_name,
    subject: row.subject,
    deliveryStatus: row.delivery_status!,
    ignoredReason: row.ignored_reason,
    headers: row.headers ? (JSON.parse(row.headers) as StoredInbound['headers']) : null,
    attachments: row.attachments ? (JSON.parse(row.attachments) as StoredInbound['attachments']) : null,
  };
}

/** `<id@Domain>` → `id@domain`: the form the service stores (angle brackets off, domain lower-cased). */
export function bare(messageId: string): string {
  const id = messageId.trim().replace(/^<|>$/g, '');
  const at = id.lastIndexOf('@');
  return `${id.slice(0, at)}@${id.slice(at + 1).toLowerCase()}`;
}

export function eventTypes(ticket: TicketDetail): string[] {
  return ticket.events.map((e) => e.type);
}

export function countOf<T>(items: readonly T[], item: T): number {
  return items.filter((x) => x === item).length;
}

/** Polls until `condition` holds (for state outside a ticket: peers, counts). */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Posts an ordinary customer e-mail with `?wait=true` and returns it decided and delivered. Processing
 * is first come, first served, so once this control e-mail is decided, anything posted before it
 * that was going to be analysed has reached GigaChat: negative checks ("no chat call") made after
 * it are meaningful, not a race lost by the background worker.
 */
export async function decidedControl(stack: Stack, overrides: Partial<EmailJson> = {}): Promise<TicketDetail> {
  const marker = `контроль-${Math.random().toString(36).slice(2, 10)}`;
  const res = await postEmail(stack.t, customerEmail({ from: 'Контроль <control@example.org>', subject: `Контрольное письмо ${marker}`, text: `Контрольный вопрос ${marker}`, ...overrides }), '?wait=true');
  if (res.status !== 200) throw new Error(`control e-mail: ${res.status} ${res.text}`);
  // Its own deliveries finish too, so nothing of it is still being written when the caller moves on.
  return waitForTicket(stack.t, (res.body as TicketDetail).id, outboxSettled);
}

/** Is this the ticket-detail body of `?wait=true`, decided? */
export function isDecided(ticket: { status: string }): boolean {
  return !['received', 'processing'].includes(ticket.status);
}
