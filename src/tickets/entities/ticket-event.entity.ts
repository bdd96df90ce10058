import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Audit trail entries. The type names are stable: dashboards and tests match on them. */
export enum TicketEventType {
  Received = 'ticket.received',
  FollowUp = 'message.follow_up',
  MessageIgnored = 'message.ignored',
  StatusChanged = 'status.changed',
  KnowledgeBaseSearched = 'kb.searched',
  AiRequested = 'ai.requested',
  AiCompleted = 'ai.completed',
  AiFailed = 'ai.failed',
  DecisionMade = 'decision.made',
  AnalysisDiscarded = 'analysis.discarded',
  DeliveryQueued = 'delivery.queued',
  DeliverySent = 'delivery.sent',
  DeliveryRetry = 'delivery.retry',
  DeliveryFailed = 'delivery.failed',
  DeliveryUncertain = 'delivery.uncertain',
  Escalated = 'ticket.escalated',
  Error = 'error',
}

@Entity('ticket_events')
export class TicketEvent {
  /** Increasing, so events keep their order even within one millisecond. */
  @PrimaryGeneratedColumn('increment')
  id: number;

  @Column({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @Column({ type: 'varchar', length: 64 })
  type: TicketEventType;

  @Column({ type: 'text' })
  message: string;

  @Column({ type: 'simple-json', nullable: true })
  data: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
