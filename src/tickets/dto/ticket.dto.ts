import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DeliveryStatus, type Message, MessageChannel, MessageDirection, MessageKind } from '../entities/message.entity.js';
import { TicketEventType, type TicketEvent } from '../entities/ticket-event.entity.js';
import type { Ticket } from '../entities/ticket.entity.js';
import { Decision, TicketStatus } from '../ticket-status.js';

export class TicketDto {
  @ApiProperty({ format: 'uuid', example: '3f1c9a52-6a8e-4a3b-9f0e-2d6c1b7e8a90' })
  id: string;

  @ApiProperty({ example: 42, description: 'Sequential ticket number, shown to customers as [#42]' })
  number: number;

  @ApiProperty({ enum: TicketStatus, enumName: 'TicketStatus', example: TicketStatus.Answered })
  status: TicketStatus;

  @ApiProperty({ enum: Decision, enumName: 'Decision', nullable: true, example: Decision.FullAnswer })
  decision: Decision | null;

  @ApiProperty({ nullable: true, example: null, description: 'Why the ticket was escalated or ignored' })
  statusReason: string | null;

  @ApiProperty({ example: 'ivan.petrov@example.ru' })
  customerEmail: string;

  @ApiProperty({ nullable: true, example: 'Иван Петров', description: "The AI's full_name when it gave one, else the sender's display name" })
  customerName: string | null;

  @ApiProperty({ example: 'Возврат заказа 12345' })
  subject: string;

  @ApiProperty({ nullable: true, example: 'Клиент хочет вернуть неподошедшие кроссовки из заказа 12345' })
  issueSummary: string | null;

  @ApiProperty({ nullable: true, example: 'Здравствуйте, Иван! Вернуть товар можно в течение 14 дней…' })
  draftReply: string | null;

  @ApiProperty({ nullable: true, minimum: 0, maximum: 1, example: 0.86 })
  confidence: number | null;

  @ApiProperty({ nullable: true, example: 'ru' })
  language: string | null;

  @ApiProperty({ example: '2026-11-26T09:15:00.000Z' })
  createdAt: Date;

  @ApiProperty({ example: '2026-11-26T09:15:04.000Z' })
  updatedAt: Date;

  static from(ticket: Ticket): TicketDto {
    return {
      id: ticket.id,
      number: ticket.number,
      status: ticket.status,
      decision: ticket.decision,
      statusReason: ticket.statusReason,
      customerEmail: ticket.customerEmail,
      customerName: ticket.customerName,
      subject: ticket.subject,
      issueSummary: ticket.issueSummary,
      draftReply: ticket.draftReply,
      confidence: ticket.confidence,
      language: ticket.language,
      createdAt: ticket.createdAt,
      updatedAt: ticket.updatedAt,
    };
  }
}

export class TicketListDto {
  @ApiProperty({ type: [TicketDto] })
  items: TicketDto[];

  @ApiProperty({ example: 57 })
  total: number;

  @ApiProperty({ example: 1 })
  page: number;

  @ApiProperty({ example: 20 })
  limit: number;
}

export class MessageDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: MessageDirection, enumName: 'MessageDirection' })
  direction: MessageDirection;

  @ApiProperty({ enum: MessageChannel, enumName: 'MessageChannel' })
  channel: MessageChannel;

  @ApiProperty({ enum: MessageKind, enumName: 'MessageKind' })
  kind: MessageKind;

  @ApiProperty({ nullable: true, example: 'CAF3x9=abc@mail.gmail.com', description: 'RFC 5322 Message-ID, without angle brackets' })
  messageId: string | null;

  @ApiProperty({ nullable: true })
  inReplyTo: string | null;

  @ApiProperty({ type: [String] })
  references: string[];

  @ApiProperty({ nullable: true, example: 'ivan.petrov@example.ru' })
  from: string | null;

  @ApiProperty({ nullable: true, example: 'Иван Петров' })
  fromName: string | null;

  @ApiProperty({ type: [String], example: ['support@shop.example'] })
  to: string[];

  @ApiProperty({ type: [String] })
  cc: string[];

  @ApiProperty({ nullable: true })
  replyTo: string | null;

  @ApiProperty({ nullable: true })
  subject: string | null;

  @ApiProperty({ nullable: true })
  text: string | null;

  @ApiProperty({ nullable: true })
  html: string | null;

  @ApiProperty({ enum: DeliveryStatus, enumName: 'DeliveryStatus' })
  deliveryStatus: DeliveryStatus;

  @ApiProperty({ nullable: true, description: 'Why the loop guard set this message aside' })
  ignoredReason: string | null;

  @ApiProperty({ example: 1 })
  attempts: number;

  @ApiProperty({ nullable: true })
  nextAttemptAt: Date | null;

  @ApiProperty({ nullable: true })
  lastError: string | null;

  @ApiProperty({ nullable: true, example: '250 2.0.0 Ok: queued as 4F2A1' })
  providerResponse: string | null;

  @ApiProperty({ nullable: true, description: "Telegram's message_id for escalations" })
  externalId: string | null;

  @ApiProperty({ nullable: true })
  receivedAt: Date | null;

  @ApiProperty({ nullable: true })
  sentAt: Date | null;

  @ApiProperty()
  createdAt: Date;

  static from(message: Message): MessageDto {
    return {
      id: message.id,
      direction: message.direction,
      channel: message.channel,
      kind: message.kind,
      messageId: message.messageId,
      inReplyTo: message.inReplyTo,
      references: message.references,
      from: message.fromAddress,
      fromName: message.fromName,
      to: message.to,
      cc: message.cc,
      replyTo: message.replyTo,
      subject: message.subject,
      text: message.text,
      html: message.html,
      deliveryStatus: message.deliveryStatus,
      ignoredReason: message.ignoredReason,
      attempts: message.attempts,
      nextAttemptAt: message.nextAttemptAt,
      lastError: message.lastError,
      providerResponse: message.providerResponse,
      externalId: message.externalId,
      receivedAt: message.receivedAt,
      sentAt: message.sentAt,
      createdAt: message.createdAt,
    };
  }
}

export class TicketEventDto {
  @ApiProperty({ example: 7 })
  id: number;

  @ApiProperty({ enum: TicketEventType, enumName: 'TicketEventType', example: TicketEventType.StatusChanged })
  type: TicketEventType;

  @ApiProperty({ example: 'processing → answered' })
  message: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  data: Record<string, unknown> | null;

  @ApiProperty()
  createdAt: Date;

  static from(event: TicketEvent): TicketEventDto {
    return { id: event.id, type: event.type, message: event.message, data: event.data, createdAt: event.createdAt };
  }
}

export class ArticleRefDto {
  @ApiProperty({ example: 'returns/how-to-return' })
  id: string;

  @ApiProperty({ example: 'Как вернуть товар' })
  title: string;

  @ApiProperty({ example: 7.42, description: 'Retrieval score (BM25); comparable within one ticket' })
  score: number;

  @ApiPropertyOptional({ example: true, description: 'The AI says its answer rests on this article' })
  usedByAi?: boolean;
}

export class AiUsageDto {
  @ApiProperty({ nullable: true, example: 'GigaChat:2.0.28.2' })
  model: string | null;

  @ApiProperty({ nullable: true, example: 'support-v2' })
  promptVersion: string | null;

  @ApiProperty({ nullable: true, example: 812 })
  promptTokens: number | null;

  @ApiProperty({ nullable: true, example: 164 })
  completionTokens: number | null;

  @ApiProperty({ nullable: true, example: 976 })
  totalTokens: number | null;

  @ApiProperty({ nullable: true, example: 2140 })
  latencyMs: number | null;
}

export class TicketDetailDto extends TicketDto {
  @ApiProperty({ type: [MessageDto], description: 'Inbound and outbound, oldest first' })
  messages: MessageDto[];

  @ApiProperty({ type: [TicketEventDto], description: 'Status changes, AI calls, deliveries and errors, oldest first' })
  events: TicketEventDto[];

  @ApiProperty({ type: [ArticleRefDto], description: 'Knowledge-base articles given to the AI for the latest analysis' })
  articles: ArticleRefDto[];

  @ApiProperty({ type: AiUsageDto })
  ai: AiUsageDto;

  static fromParts(ticket: Ticket, messages: Message[], events: TicketEvent[]): TicketDetailDto {
    return {
      ...TicketDto.from(ticket),
      messages: messages.map((m) => MessageDto.from(m)),
      events: events.map((e) => TicketEventDto.from(e)),
      articles: ticket.kbArticles ?? [],
      ai: {
        model: ticket.aiModel,
        promptVersion: ticket.aiPromptVersion,
        promptTokens: ticket.aiPromptTokens,
        completionTokens: ticket.aiCompletionTokens,
        totalTokens: ticket.aiTotalTokens,
        latencyMs: ticket.aiLatencyMs,
      },
    };
  }
}
