import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { parseEmailAddress } from '../common/email-address.js';
import type { MailConfig } from '../config/app-config.js';
import { composeMessage } from './email-composition.js';
import { EmailDeliveryError, type EmailSendResult, EmailSender, type OutgoingEmail } from './email-sender.js';

const MAX_IDLE_CONNECTIONS = 4;
const IDLE_TIMEOUT_MS = 30_000;
/** The connection one send() uses, and whether its deadline passed. */
interface Attempt {
  connection: SMTPConnection | null;
  timedOut: boolean;
}

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'ECONNREFUSED', 'EPROTOCOL', 'ETLS']);

/**
 * Sends over SMTP_URL with nodemailer's SMTP connection: smtp:// upgrades with STARTTLS when the
 * server offers it, smtps:// is TLS from the start; credentials come from the URL. A connection
 * that sent a message is kept for the next one (up to a few, closed after 30 s idle); one that
 * failed in any way is closed.
 *
 * The connection reads the message only once the server has accepted the envelope and answered
 * DATA with 354, so the end of our message stream says that all of it was handed over: a failure
 * before that (connecting, MAIL FROM, RCPT TO, DATA) is temporary and safe to retry; after it, the
 * server may already have the message, and the failure is `uncertain` (never retried: no second
 * e-mail). nodemailer's pooled transport cannot tell the two apart: it buffers the message ahead
 * of the envelope, so the stream ends before the first command is sent.
 */
export class SmtpEmailSender extends EmailSender {
  readonly transport = 'smtp' as const;
  /**
   * The whole dialogue of one send, connecting included. Each step has its own inactivity timeout,
   * but a slow or tarpitting server can keep every step just under it; past this the connection is
   * closed and the send fails (temporary, or uncertain once the message was handed over).
   */
  readonly maxSendMs: number;
  private readonly options: SMTPConnection.Options;
  private readonly auth: SMTPConnection.AuthenticationType | null;
  private readonly open = new Set<SMTPConnection>();
  /** Connections that sent their last message and wait for the next, most recent last. */
  private readonly idle: SMTPConnection[] = [];
  private closed = false;

  constructor(private readonly config: MailConfig) {
    super();
    const url = new URL(config.smtpUrl!);
    this.options = {
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
      secure: url.protocol === 'smtps:',
      connectionTimeout: Math.min(config.timeoutMs, 15_000),
      greetingTimeout: Math.min(config.timeoutMs, 15_000),
      socketTimeout: config.timeoutMs,
      // nodemailer would otherwise log through its own logger, with addresses; we log ourselves.
      logger: false,
    };
    this.auth = url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : null;
    this.maxSendMs = 2 * config.timeoutMs;
  }

  async send(email: OutgoingEmail): Promise<EmailSendResult> {
    const message = await composeMessage(email);
    let handedOver = false;
    const raw = Readable.from([message]).once('end', () => {
      handedOver = true;
    });
    const attempt: Attempt = { connection: null, timedOut: false };
    const deadline = setTimeout(() => {
      // Closing fails the step in flight (its 'end'); the connection is not reused.
      attempt.timedOut = true;
      if (attempt.connection) this.discard(attempt.connection);
    }, this.maxSendMs);
    let failed = true;
    try {
      const open = await this.acquire(attempt);
      const envelope = { from: this.config.fromAddress, to: email.to.map((to) => parseEmailAddress(to)?.address ?? to) };
      const info = await step<SMTPConnection.SentMessageInfo>(open, (done) => open.send(envelope, raw, done));
      if (Array.isArray(info.rejected) && info.rejected.length > 0) {
        throw new EmailDeliveryError(`the server rejected ${info.rejected.length} recipient(s)`, 'permanent');
      }
      failed = false;
      return { response: info.response ?? 'accepted' };
    } catch (error) {
      const cause = attempt.timedOut ? Object.assign(new Error(`the SMTP dialogue took longer than ${this.maxSendMs} ms`), { code: 'ETIMEDOUT' }) : error;
      throw classify(cause, handedOver);
    } finally {
      clearTimeout(deadline);
      if (attempt.connection) this.release(attempt.connection, failed || attempt.timedOut);
    }
  }

  /**
   * The most recently kept connection, else a new one (recorded on `attempt` before it connects,
   * so the deadline can close it). A kept connection leaves the list when it ends; one the server
   * dropped unnoticed fails at MAIL FROM, which is temporary and retried.
   */
  private async acquire(attempt: Attempt): Promise<SMTPConnection> {
    const kept = this.idle.pop();
    if (kept) return (attempt.connection = kept);
    const connection = new SMTPConnection(this.options);
    attempt.connection = connection;
    this.open.add(connection);
    connection.once('end', () => this.discard(connection));
    try {
      await this.connect(connection);
    } catch (error) {
      this.discard(connection);
      throw error;
    }
    return connection;
  }

  private release(connection: SMTPConnection, failed: boolean): void {
    if (failed || this.closed || this.idle.length >= MAX_IDLE_CONNECTIONS) {
      this.discard(connection, !failed);
      return;
    }
    this.idle.push(connection);
    const timer = setTimeout(() => {
      const index = this.idle.indexOf(connection);
      if (index >= 0) {
        this.idle.splice(index, 1);
        this.discard(connection, true);
      }
    }, IDLE_TIMEOUT_MS);
    timer.unref();
  }

  /** Closes a connection: politely (QUIT) after a success, at once after a failure. */
  private discard(connection: SMTPConnection, polite = false): void {
    if (!this.open.delete(connection)) return;
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    if (polite) connection.quit();
    else connection.close();
  }

  /** Connects (greeting, EHLO, STARTTLS when offered) and logs in when the URL has credentials. */
  private async connect(connection: SMTPConnection): Promise<void> {
    // Errors are also emitted as events for the whole life of the connection; unheard, they would
    // crash the process. The step in flight, if any, settles on them through `step`.
    connection.on('error', () => undefined);
    await step<unknown>(connection, (done) => connection.connect((error) => done(error)));
    const auth = this.auth;
    if (auth) await step<unknown>(connection, (done) => connection.login(auth, (error) => done(error)));
  }

  async wasDelivered(): Promise<boolean | null> {
    // SMTP cannot be asked whether a message was taken before the connection dropped.
    return null;
  }

  override async close(): Promise<void> {
    this.closed = true;
    for (const connection of [...this.open]) this.discard(connection, this.idle.includes(connection));
  }
}

/**
 * One step of the SMTP dialogue (connect, login, send), settled by its callback, or by the
 * connection failing or ending first: nodemailer drops a pending login's callback when the
 * connection fails, which would leave the step, and the outbox behind it, waiting for ever.
 */
function step<T>(connection: SMTPConnection, start: (done: (error?: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error | null, value?: T) => {
      if (settled) return;
      settled = true;
      connection.off('error', onError);
      connection.off('end', onEnd);
      if (error) reject(error);
      else resolve(value as T);
    };
    const onError = (error: Error) => finish(error);
    const onEnd = () => finish(Object.assign(new Error('the SMTP connection closed'), { code: 'ECONNECTION' }));
    connection.on('error', onError);
    connection.on('end', onEnd);
    start(finish);
  });
}

function classify(error: unknown, handedOver: boolean): EmailDeliveryError {
  if (error instanceof EmailDeliveryError) return error;
  const { responseCode, code, response, message } = error as { responseCode?: number; code?: string; response?: string; message?: string };
  const detail = (response ?? message ?? String(error)).replace(/\s+/g, ' ').slice(0, 500);
  if (typeof responseCode === 'number') {
    // The server answered. 4xx: try again later (greylisting, mailbox busy). 5xx: it never will.
    return new EmailDeliveryError(`SMTP ${responseCode}: ${detail}`, responseCode >= 500 ? 'permanent' : 'temporary', responseCode);
  }
  if (code === 'EENVELOPE' || code === 'EMESSAGE') return new EmailDeliveryError(`the message was refused (${code}): ${detail}`, 'permanent');
  if (handedOver) {
    return new EmailDeliveryError(`no answer after the message was sent (${code ?? 'connection lost'}): ${detail}`, 'uncertain');
  }
  if (code && TRANSIENT_CODES.has(code)) return new EmailDeliveryError(`SMTP connection problem (${code}): ${detail}`, 'temporary');
  return new EmailDeliveryError(`SMTP send failed: ${detail}`, 'temporary');
}
