/** One e-mail as we send it: every header that matters for threading and loop safety is explicit. */
export interface OutgoingEmail {
  /** Without angle brackets. */
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  inReplyTo: string | null;
  references: string[];
  /** Extra headers, e.g. Auto-Submitted. */
  headers: Record<string, string>;
}

export interface EmailSendResult {
  /** The server's final answer (`250 2.0.0 Ok: queued as …`) or where the file was written. */
  response: string;
}

/**
 * How a send failed:
 * - `temporary`: not delivered, try again (4xx replies, connection errors before the message was sent);
 * - `permanent`: not delivered and never will be (5xx replies);
 * - `uncertain`: the whole message went out but no answer came back (the connection dropped or timed
 *   out waiting for the server's 250): it may have been delivered, so it must not be sent again.
 */
export type EmailFailureKind = 'temporary' | 'permanent' | 'uncertain';

export class EmailDeliveryError extends Error {
  constructor(
    message: string,
    readonly kind: EmailFailureKind,
    readonly responseCode?: number,
  ) {
    super(message);
    this.name = 'EmailDeliveryError';
  }

  get permanent(): boolean {
    return this.kind !== 'temporary';
  }
}

/** Sends customer e-mail. Bound to SmtpEmailSender when SMTP_URL is set, else to FileEmailSender. */
export abstract class EmailSender {
  abstract readonly transport: 'smtp' | 'file';
  /** The longest one send() can take before it fails: the outbox's lease on an attempt outlasts it. */
  abstract readonly maxSendMs: number;

  abstract send(email: OutgoingEmail): Promise<EmailSendResult>;

  /**
   * Whether a message that was being sent when the process died went out. Null when the transport
   * cannot tell (SMTP): the caller must then assume it may have.
   */
  abstract wasDelivered(messageId: string): Promise<boolean | null>;

  async close(): Promise<void> {}
}
