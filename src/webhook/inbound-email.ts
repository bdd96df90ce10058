import type { EmailAddress } from '../common/email-address.js';
import type { AttachmentMeta } from '../tickets/entities/message.entity.js';

/**
 * One inbound e-mail, the same whichever way it arrived (JSON body or raw RFC 822). Everything
 * downstream (loop guard, threading, storage) works on this shape only.
 */
export interface InboundEmail {
  from: EmailAddress;
  to: string[];
  cc: string[];
  replyTo: EmailAddress | null;
  subject: string;
  text: string | null;
  html: string | null;
  /** Normalised Message-ID (no angle brackets, domain lower-cased): the de-duplication key. */
  messageId: string;
  /** The Message-ID as the sender wrote it (no angle brackets): what a reply's In-Reply-To repeats. */
  rfcMessageId: string;
  /** True when the mail had none and `messageId` was derived from its content. */
  messageIdGenerated: boolean;
  /** As written (no angle brackets); compare through normalizeMessageId. */
  inReplyTo: string | null;
  /** As written, oldest first; compare through normalizeMessageId. */
  references: string[];
  /** Header names lower-cased; multi-valued headers joined with ", ". */
  headers: Record<string, string>;
  receivedAt: Date;
  attachments: AttachmentMeta[];
}
