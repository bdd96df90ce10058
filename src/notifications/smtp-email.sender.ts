import { Readable } from 'node:stream';
import nodemailer, { type Transporter } from 'nodemailer';
import { parseEmailAddress } from '../common/email-address.js';
import type { MailConfig } from '../config/app-config.js';
import { composeMessage } from './email-composition.js';
import { EmailDeliveryError, type EmailSendResult, EmailSender, type OutgoingEmail } from './email-sender.js';

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'ECONNREFUSED', 'EPROTOCOL', 'ETLS']);

/**
 * Sends over SMTP_URL with nodemailer: smtp:// upgrades with STARTTLS when the server offers it,
 * smtps:// is TLS from the start; credentials come from the URL. Connections are pooled.
 *
 * The message is composed here and streamed to the server, so we know whether all of it was
 * handed over when a connection fails: before that, a retry is safe; after it, the server may
 * already have the message, and the failure is `uncertain` (never retried: no second e-mail).
 */
export class SmtpEmailSender extends EmailSender {
  readonly transport = 'smtp' as const;
  private readonly transporter: Transporter;

  constructor(private readonly config: MailConfig) {
    super();
    const url = new URL(config.smtpUrl!);
    this.transporter = nodemailer.createTransport({
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
      secure: url.protocol === 'smtps:',
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      pool: true,
      maxConnections: 3,
      connectionTimeout: Math.min(config.timeoutMs, 15_000),
      greetingTimeout: Math.min(config.timeoutMs, 15_000),
      socketTimeout: config.timeoutMs,
      // nodemailer would otherwise log through its own logger, with addresses; we log ourselves.
      logger: false,
    });
  }

  async send(email: OutgoingEmail): Promise<EmailSendResult> {
    const message = await composeMessage(email);
    let handedOver = false;
    const raw = Readable.from([message]).once('end', () => {
      handedOver = true;
    });
    try {
      const info = (await this.transporter.sendMail({
        envelope: {
          from: this.config.fromAddress,
          to: email.to.map((to) => parseEmailAddress(to)?.address ?? to),
        },
        raw,
      })) as { response?: string; rejected?: unknown[] };
      if (Array.isArray(info.rejected) && info.rejected.length > 0) {
        throw new EmailDeliveryError(`the server rejected ${info.rejected.length} recipient(s)`, 'permanent');
      }
      return { response: info.response ?? 'accepted' };
    } catch (error) {
      throw classify(error, handedOver);
    }
  }

  async wasDelivered(): Promise<boolean | null> {
    // SMTP cannot be asked whether a message was taken before the connection dropped.
    return null;
  }

  override async close(): Promise<void> {
    this.transporter.close();
  }
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
