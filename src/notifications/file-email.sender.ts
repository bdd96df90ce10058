import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { MailConfig } from '../config/app-config.js';
import { composeMessage } from './email-composition.js';
import { type EmailSendResult, EmailSender, type OutgoingEmail } from './email-sender.js';

/**
 * Without SMTP_URL every e-mail is written as an .eml file under MAIL_OUTBOX_DIR (./data/outbox),
 * so a newcomer sees exactly what would have been sent. The file is written under a temporary name
 * and renamed, so it either exists whole or not at all: that makes delivery checkable after a crash.
 */
export class FileEmailSender extends EmailSender {
  readonly transport = 'file' as const;
  /** A local write; and wasDelivered settles an attempt a crash interrupted either way. */
  readonly maxSendMs = 30_000;
  private readonly logger = new Logger(FileEmailSender.name);
  private readonly dir: string;

  constructor(config: MailConfig) {
    super();
    this.dir = resolve(config.outboxDir);
  }

  async send(email: OutgoingEmail): Promise<EmailSendResult> {
    const message = await composeMessage(email);
    await mkdir(this.dir, { recursive: true });
    const path = this.pathFor(email.messageId);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, message);
    await rename(temporary, path);
    this.logger.log({ msg: 'e-mail written to the outbox folder (SMTP_URL is not set)', file: path });
    return { response: `written to ${path}` };
  }

  async wasDelivered(messageId: string): Promise<boolean> {
    try {
      await access(this.pathFor(messageId));
      return true;
    } catch {
      return false;
    }
  }

  pathFor(messageId: string): string {
    return join(this.dir, `${messageId.replace(/[^\w.@-]+/g, '_')}.eml`);
  }
}
