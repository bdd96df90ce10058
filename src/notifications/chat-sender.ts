export interface ChatMessageContent {
  html: string;
  /** Sent instead when the chat cannot parse the HTML. */
  text: string;
}

export interface ChatSendResult {
  messageId: string;
}

/** A failed chat message; `retryAfterMs` is the chat service's own flood-control delay. */
export class ChatDeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChatDeliveryError';
  }
}

/** Notifies the operators. Bound to TelegramChatSender. */
export abstract class ChatSender {
  /** False without TELEGRAM_BOT_TOKEN/TELEGRAM_CHAT_ID: escalations are then only recorded. */
  abstract readonly isConfigured: boolean;
  /** Where messages go, for the audit trail (the chat id). */
  abstract readonly destination: string;
  abstract send(message: ChatMessageContent): Promise<ChatSendResult>;
}
