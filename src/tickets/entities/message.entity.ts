import { Column, Entity, PrimaryColumn } from 'typeorm';

export enum MessageDirection {
  Inbound = 'inbound',
  Outbound = 'outbound',
}

export enum MessageChannel {
  Email = 'email',
  Telegram = 'telegram',
}

/** What a message is for; outbound e-mails of every kind are automatic replies (RFC 3834). */
export enum MessageKind {
  Customer = 'customer',
  Reply = 'reply',
  InfoRequest = 'info_request',
  Escalation = 'escalation',
}

/**
 * Delivery state. Inbound: `received` or `ignored`. Outbound (the outbox): `pending` → `sending`
 * (the attempt is recorded before any network call) → `sent` | `pending` again (temporary failure,
 * with nextAttemptAt) | `failed` (permanent or out of attempts) | `uncertain` (the process died
 * during an attempt, so whether it went out is unknown; never retried automatically).
 */
export enum DeliveryStatus {
  Received = 'received',
  Ignored = 'ignored',
  Pending = 'pending',
  Sending = 'sending',
  Sent = 'sent',
  Failed = 'failed',
  Uncertain = 'uncertain',
}

export interface AttachmentMeta {
  filename: string | null;
  contentType: string | null;
  size: number | null;
}

/** Indexes and constraints live in the migrations (src/database/migrations), never synchronised. */
@Entity('messages')
export class Message {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @Column({ type: 'varchar', length: 8 })
  direction: MessageDirection;

  @Column({ type: 'varchar', length: 16 })
  channel: MessageChannel;

  @Column({ type: 'varchar', length: 16 })
  kind: MessageKind;

  /** RFC 5322 Message-ID without angle brackets, domain lower-cased. Unique among inbound messages. */
  @Column({ name: 'message_id', type: 'varchar', length: 998, nullable: true })
  messageId: string | null;

  /** The Message-ID as written (case kept), repeated verbatim in a reply's In-Reply-To/References. */
  @Column({ name: 'rfc_message_id', type: 'varchar', length: 998, nullable: true })
  rfcMessageId: string | null;

  /** As written, no angle brackets. */
  @Column({ name: 'in_reply_to', type: 'varchar', length: 998, nullable: true })
  inReplyTo: string | null;

  /** As written, no angle brackets, oldest first. */
  @Column({ type: 'simple-json' })
  references: string[];

  @Column({ name: 'from_address', type: 'varchar', length: 320, nullable: true })
  fromAddress: string | null;

  @Column({ name: 'from_name', type: 'varchar', length: 255, nullable: true })
  fromName: string | null;

  @Column({ name: 'to_addresses', type: 'simple-json' })
  to: string[];

  @Column({ name: 'cc_addresses', type: 'simple-json' })
  cc: string[];

  @Column({ name: 'reply_to', type: 'varchar', length: 320, nullable: true })
  replyTo: string | null;

  /** Outbound e-mail: the lower-cased address it goes to, for AUTO_REPLY_LIMIT. */
  @Column({ name: 'recipient_key', type: 'varchar', length: 320, nullable: true })
  recipientKey: string | null;

  @Column({ type: 'text', nullable: true })
  subject: string | null;

  /** The body exactly as received or sent. */
  @Column({ type: 'text', nullable: true })
  text: string | null;

  @Column({ type: 'text', nullable: true })
  html: string | null;

  /** What the AI reads: HTML reduced to text, quoted history and signature removed; null when that is the text itself. */
  @Column({ name: 'clean_text', type: 'text', nullable: true })
  cleanText: string | null;

  @Column({ type: 'simple-json', nullable: true })
  headers: Record<string, string> | null;

  @Column({ type: 'simple-json', nullable: true })
  attachments: AttachmentMeta[] | null;

  /** When the customer's mail was received (its receivedAt / Date). */
  @Column({ name: 'received_at', type: Date, nullable: true })
  receivedAt: Date | null;

  @Column({ name: 'delivery_status', type: 'varchar', length: 16 })
  deliveryStatus: DeliveryStatus;

  /** Why the loop guard set this message aside. */
  @Column({ name: 'ignored_reason', type: 'text', nullable: true })
  ignoredReason: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: Date, nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'claim_token', type: 'varchar', length: 36, nullable: true })
  claimToken: string | null;

  @Column({ name: 'lease_expires_at', type: Date, nullable: true })
  leaseExpiresAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** The peer's answer: the SMTP server's reply line, or the outbox file written. */
  @Column({ name: 'provider_response', type: 'text', nullable: true })
  providerResponse: string | null;

  /** Telegram's message_id for escalations. */
  @Column({ name: 'external_id', type: 'varchar', length: 64, nullable: true })
  externalId: string | null;

  @Column({ name: 'sent_at', type: Date, nullable: true })
  sentAt: Date | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
