import { Logger } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import type { MailConfig } from '../config/app-config.js';
import { toMailOptions } from './email-composition.js';
import { EmailDeliveryError, type EmailSendResult, EmailSender, type OutgoingEmail } from './email-sender.js';

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNRESET', 'ECONNREFUSED', 'EPROTOCOL']);

/**
 * Sends over SMTP_URL with nodemailer: smtp:// upgrades with STARTTLS when the server offers it,
 * smtps:// is TLS from the start; credentials come from the URL. Connections are pooled.
 */
export class SmtpEmailSender extends EmailSender {
  readonly transport = 'smtp' as const;
  private readonly logger = new Logger(SmtpEmailSender.name);
  private readonly transporter: Transporter;

  constructor(config: MailConfig) {
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
    try {
      const info = (await this.transporter.sendMail(toMailOptions(email))) as { response?: string; rejected?: unknown[] };
      if (Array.isArray(info.rejected) && info.rejected.length > 0) {
        throw new EmailDeliveryError(`the server rejected ${info.rejected.length} recipient(s)`, true);
      }
      return { response: info.response ?? 'accepted' };
    } catch (error) {
      throw classify(error);
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

function classify(error: unknown): EmailDeliveryError {
  if (error instanceof EmailDeliveryError) return error;
  const { responseCode, code, response, message } = error as { responseCode?: number; code?: string; response?: string; message?: string };
  const detail = (response ?? message ?? String(error)).replace(/\s+/g, ' ').slice(0, 500);
  if (typeof responseCode === 'number') {
    // 4xx: try again later (greylisting, mailbox busy). 5xx: the server will never take it.
    return new EmailDeliveryError(`SMTP ${responseCode}: ${detail}`, responseCode >= 500, responseCode);
  }
  if (code && TRANSIENT_CODES.has(code)) return new EmailDeliveryError(`SMTP connection problem (${code}): ${detail}`, false);
  if (code === 'EENVELOPE' || code === 'EMESSAGE') return new EmailDeliveryError(`the message was refused (${code}): ${detail}`, true);
  return new EmailDeliveryError(`SMTP send failed: ${detail}`, false);
}
