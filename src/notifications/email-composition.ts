import type { SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { bracketMessageId } from '../common/message-id.js';
import type { OutgoingEmail } from './email-sender.js';

/** nodemailer options for an OutgoingEmail. */
export function toMailOptions(email: OutgoingEmail): SendMailOptions {
  return {
    messageId: bracketMessageId(email.messageId),
    from: email.from,
    to: email.to,
    subject: email.subject,
    text: email.text,
    inReplyTo: email.inReplyTo ? bracketMessageId(email.inReplyTo) : undefined,
    references: email.references.length ? email.references.map(bracketMessageId) : undefined,
    headers: email.headers,
    // Plain text only: what the AI drafted, nothing a client could render differently.
    textEncoding: 'quoted-printable',
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** The whole RFC 822 message: the SMTP and file senders send exactly these bytes. */
export function composeMessage(email: OutgoingEmail): Promise<Buffer> {
  return new MailComposer(toMailOptions(email)).compile().build();
}
