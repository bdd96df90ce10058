import request from 'supertest';
import type { TestApp } from './test-app.js';

export interface EmailJson {
  from: string;
  to?: string | string[];
  cc?: string | string[];
  replyTo?: string;
  subject?: string;
  text?: string;
  html?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string | string[];
  headers?: Record<string, string>;
  receivedAt?: string;
  attachments?: Array<{ filename?: string; contentType?: string; size?: number }>;
}

let counter = 0;

/** A plausible customer e-mail with a unique Message-ID. */
export function customerEmail(overrides: Partial<EmailJson> = {}): EmailJson {
  counter++;
  return {
    from: 'Иван Петров <ivan.petrov@example.ru>',
    to: 'support@severveter.example',
    subject: 'Возврат кроссовок',
    text: 'Здравствуйте! Купил кроссовки, они не подошли по размеру. Как оформить возврат товара в личном кабинете?',
    messageId: `<msg-${process.pid}-${Date.now()}-${counter}@mail.example.ru>`,
    ...overrides,
  };
}

export function postEmail(t: TestApp, body: unknown, query = '') {
  return request(t.http).post(`/api/webhook/email${query}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
}

export function postRawEmail(t: TestApp, raw: string | Buffer, query = '') {
  return request(t.http).post(`/api/webhook/email${query}`).set('Content-Type', 'message/rfc822').send(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
}

export async function getTicket(t: TestApp, id: string, headers: Record<string, string> = {}) {
  const res = await request(t.http).get(`/api/tickets/${id}`).set(headers);
  if (res.status !== 200) throw new Error(`GET ticket ${id}: ${res.status} ${res.text}`);
  return res.body as TicketDetail;
}

export interface TicketDetail {
  id: string;
  number: number;
  status: string;
  decision: string | null;
  statusReason: string | null;
  customerEmail: string;
  customerName: string | null;
  subject: string;
  issueSummary: string | null;
  draftReply: string | null;
  confidence: number | null;
  language: string | null;
  messages: Array<{
    id: string;
    direction: string;
    channel: string;
    kind: string;
    messageId: string | null;
    inReplyTo: string | null;
    references: string[];
    from: string | null;
    to: string[];
    subject: string | null;
    text: string | null;
    html: string | null;
    deliveryStatus: string;
    ignoredReason: string | null;
    attempts: number;
    lastError: string | null;
    externalId: string | null;
    providerResponse: string | null;
  }>;
  events: Array<{ id: number; type: string; message: string; data: Record<string, unknown> | null }>;
  articles: Array<{ id: string; title: string; score: number; usedByAi?: boolean }>;
  ai: { model: string | null; promptVersion: string | null; promptTokens: number | null; completionTokens: number | null; totalTokens: number | null; latencyMs: number | null };
}

/** Polls the ticket until `done` holds (decisions and deliveries happen in the background). */
export async function waitForTicket(t: TestApp, id: string, done: (ticket: TicketDetail) => boolean, timeoutMs = 15_000): Promise<TicketDetail> {
  const deadline = Date.now() + timeoutMs;
  let last: TicketDetail | undefined;
  for (;;) {
    last = await getTicket(t, id);
    if (done(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`ticket ${id} did not reach the expected state; last: ${JSON.stringify({ status: last.status, events: last.events.map((e) => e.type), messages: last.messages.map((m) => [m.direction, m.channel, m.deliveryStatus, m.lastError]) })}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function countTickets(t: TestApp): Promise<number> {
  return t.dataSource.query(`SELECT COUNT(*) AS n FROM "tickets"`).then((rows: Array<{ n: number | string }>) => Number(rows[0].n));
}

export function decided(ticket: TicketDetail): boolean {
  return !['received', 'processing'].includes(ticket.status);
}

export function outboxSettled(ticket: TicketDetail): boolean {
  return decided(ticket) && ticket.messages.every((m) => m.direction === 'inbound' || ['sent', 'failed', 'uncertain'].includes(m.deliveryStatus));
}
