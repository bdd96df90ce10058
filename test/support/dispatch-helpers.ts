import { readdirSync } from 'node:fs';
import { DataSource, type EntityManager } from 'typeorm';
import { parseDatabaseUrl } from '../../src/config/database-url.js';
import { buildDataSourceOptions } from '../../src/database/data-source.options.js';
import type { GigaChatPeer } from '../peers/gigachat.peer.js';
import type { ReceivedMail } from '../peers/smtp.peer.js';
import type { TicketDetail } from './http.js';
import { type AnalysisArgs, decisionReply } from './stack.js';

let addressCounter = 0;

/**
 * A customer address of its own for one test: AUTO_REPLY_LIMIT counts automatic e-mails per
 * address over 3 hours, so suites that answer many e-mails must not share one.
 */
export function uniqueAddress(tag = 'customer'): string {
  addressCounter++;
  return `${tag}.${process.pid}.${Date.now().toString(36)}.${addressCounter}@example.ru`;
}

/** Every chat call gets this decision (a script is consumed; tests that post several e-mails need this). */
export function alwaysDecide(gigachat: GigaChatPeer, args: AnalysisArgs): void {
  gigachat.setResponder(() => decisionReply(args));
}

/**
 * Runs `work` on the test database through a connection of its own, for changes made while the
 * service is stopped (a crash simulated between two runs). TypeORM writes dates in each
 * database's own format, so the same code works on SQLite and PostgreSQL.
 */
export async function withDatabase<T>(url: string, work: (db: EntityManager) => Promise<T>): Promise<T> {
  const dataSource = new DataSource(buildDataSourceOptions(parseDatabaseUrl(url)));
  await dataSource.initialize();
  try {
    return await work(dataSource.manager);
  } finally {
    await dataSource.destroy();
  }
}

/** A header exactly as it is on the wire, unfolded (CRLF + whitespace joined), without its name. */
export function rawHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0]!;
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The raw header block's lines for `name`, as folded on the wire (each ≤ 998 characters by RFC 5322). */
export function foldedHeaderLines(raw: string, name: string): string[] {
  const lines = raw.split(/\r?\n\r?\n/, 1)[0]!.split(/\r?\n/);
  const start = lines.findIndex((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (start < 0) return [];
  const out = [lines[start]!];
  for (let i = start + 1; i < lines.length && /^[ \t]/.test(lines[i]!); i++) out.push(lines[i]!);
  return out;
}

/** The ids of a Message-ID list header (`<a> <b>`), brackets kept. */
export function messageIds(value: string | string[] | undefined): string[] {
  if (!value) return [];
  return (Array.isArray(value) ? value.join(' ') : value).match(/<[^<>]+>/g) ?? [];
}

export function outboundEmails(ticket: TicketDetail) {
  return ticket.messages.filter((m) => m.direction === 'outbound' && m.channel === 'email');
}

export function outboundNotices(ticket: TicketDetail) {
  return ticket.messages.filter((m) => m.direction === 'outbound' && m.channel === 'telegram');
}

export function eventsOf(ticket: TicketDetail, type: string) {
  return ticket.events.filter((e) => e.type === type);
}

/** The mail's Message-ID without brackets. */
export function bareMessageId(mail: ReceivedMail): string {
  return (mail.parsed.messageId ?? '').replace(/^<|>$/g, '');
}

/** .eml files in an outbox folder (none when it does not exist yet). */
export function emlFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
}

/** Resolves once `check` holds, polling; for states that are not on a ticket (files, peers). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
