import type { SendMailOptions } from 'nodemailer';
import { bracketMessageId } from '../common/message-id.js';
import type { OutgoingEmail } from './email-sender.js';

/** nodemailer options for an OutgoingEmail: the SMTP and file senders build byte-identical messages. */
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
