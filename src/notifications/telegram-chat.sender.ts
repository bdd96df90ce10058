import { Logger } from '@nestjs/common';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import type { TelegramConfig } from '../config/app-config.js';
import { ChatDeliveryError, type ChatMessageContent, type ChatSendResult, ChatSender } from './chat-sender.js';

interface TelegramAnswer {
  ok?: boolean;
  description?: string;
  error_code?: number;
  parameters?: { retry_after?: number };
  result?: { message_id?: number };
}

/**
 * Telegram Bot API `sendMessage` with parse_mode HTML. A 400 about entities is sent once more as
 * plain text; 429 carries Telegram's retry_after; 5xx and network errors are temporary. The bot
 * token is part of the URL, so no URL or raw axios error ever reaches a log or an error message.
 */
export class TelegramChatSender extends ChatSender {
  private readonly logger = new Logger(TelegramChatSender.name);
  private readonly http: AxiosInstance;

  constructor(private readonly config: TelegramConfig) {
    super();
    this.http = axios.create({ timeout: config.timeoutMs, validateStatus: () => true, maxRedirects: 0 });
  }

  get isConfigured(): boolean {
    return Boolean(this.config.botToken && this.config.chatId);
  }

  get destination(): string {
    return `telegram:${this.config.chatId ?? 'not configured'}`;
  }

  async send(message: ChatMessageContent): Promise<ChatSendResult> {
    if (!this.isConfigured) throw new ChatDeliveryError('Telegram is not configured', true);
    const first = await this.call({ chat_id: this.config.chatId, text: message.html, parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    if (first.status === 400 && /can't parse entities|unsupported start tag|can't find end/i.test(first.body.description ?? '')) {
      this.logger.warn({ msg: 'Telegram could not parse the HTML; sending as plain text', description: first.body.description });
      return this.result(await this.call({ chat_id: this.config.chatId, text: message.text, link_preview_options: { is_disabled: true } }));
    }
    return this.result(first);
  }

  private async call(payload: Record<string, unknown>): Promise<{ status: number; body: TelegramAnswer }> {
    try {
      const response = await this.http.post(`${this.config.apiUrl}/bot${this.config.botToken}/sendMessage`, payload, {
        headers: { 'Content-Type': 'application/json' },
      });
      const body = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as TelegramAnswer;
      return { status: response.status, body };
    } catch (error) {
      const code = isAxiosError(error) ? (error.code ?? 'ERR_NETWORK') : 'ERR_UNKNOWN';
      throw new ChatDeliveryError(`Telegram unreachable (${code})`, false);
    }
  }

  private result({ status, body }: { status: number; body: TelegramAnswer }): ChatSendResult {
    if (status === 200 && body.ok && body.result?.message_id !== undefined) return { messageId: String(body.result.message_id) };
    const description = body.description ?? `HTTP ${status}`;
    if (status === 429) {
      const retryAfter = body.parameters?.retry_after;
      return throwing(new ChatDeliveryError(`Telegram flood control: ${description}`, false, typeof retryAfter === 'number' ? retryAfter * 1000 : undefined));
    }
    if (status >= 500 || status === 0) return throwing(new ChatDeliveryError(`Telegram error: ${description}`, false));
    // 400 chat not found, 401 bad token, 403 bot removed from the chat: retrying will not help.
    return throwing(new ChatDeliveryError(`Telegram refused the message: ${description}`, true));
  }
}

function throwing(error: Error): never {
  throw error;
}
