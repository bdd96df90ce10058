import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Decision, TicketStatus } from '../ticket-status.js';

/** An article of the knowledge base that went into the prompt for this ticket. */
export interface TicketArticleRef {
  id: string;
  title: string;
  score: number;
  /** Whether the AI says its answer rests on this article (absent when the AI was not asked). */
  usedByAi?: boolean;
}

/**
 * A customer conversation. Columns are portable between SQLite and PostgreSQL (varchar, text,
 * integer, real, simple-json); timestamps are set by the code so both databases hold the same
 * millisecond values.
 */
@Entity('tickets')
export class Ticket {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Human-readable sequential number (`[#42]` in subjects), assigned by the database. */
  @Column({ type: 'integer', insert: false, update: false })
  number: number;

  @Column({ type: 'varchar', length: 32 })
  status: TicketStatus;

  @Column({ type: 'varchar', length: 32, nullable: true })
  decision: Decision | null;

  /** Why the ticket was escalated or ignored, in words an operator understands. */
  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason: string | null;

  @Column({ name: 'customer_email', type: 'varchar', length: 320 })
  customerEmail: string;

  @Column({ name: 'customer_name', type: 'varchar', length: 255, nullable: true })
  customerName: string | null;

  @Column({ type: 'text' })
  subject: string;

  @Column({ name: 'issue_summary', type: 'text', nullable: true })
  issueSummary: string | null;

  @Column({ name: 'draft_reply', type: 'text', nullable: true })
  draftReply: string | null;

  @Column({ type: 'real', nullable: true })
  confidence: number | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  language: string | null;

  @Column({ name: 'kb_articles', type: 'simple-json', nullable: true })
  kbArticles: TicketArticleRef[] | null;

  @Column({ name: 'ai_model', type: 'varchar', length: 64, nullable: true })
  aiModel: string | null;

  @Column({ name: 'ai_prompt_version', type: 'varchar', length: 32, nullable: true })
  aiPromptVersion: string | null;

  @Column({ name: 'ai_prompt_tokens', type: 'integer', nullable: true })
  aiPromptTokens: number | null;

  @Column({ name: 'ai_completion_tokens', type: 'integer', nullable: true })
  aiCompletionTokens: number | null;

  @Column({ name: 'ai_total_tokens', type: 'integer', nullable: true })
  aiTotalTokens: number | null;

  @Column({ name: 'ai_latency_ms', type: 'integer', nullable: true })
  aiLatencyMs: number | null;

  /** Bumped by every inbound message; an analysis of an older revision is discarded. */
  @Column({ type: 'integer', default: 1 })
  revision: number;

  /** Set while a worker holds the ticket; a claim whose lease expired may be taken over. */
  @Column({ name: 'claim_token', type: 'varchar', length: 36, nullable: true })
  claimToken: string | null;

  @Column({ name: 'lease_expires_at', type: Date, nullable: true })
  leaseExpiresAt: Date | null;

  @Column({ name: 'processing_attempts', type: 'integer', default: 0 })
  processingAttempts: number;

  /** Lower-cased subject, address and name: SQLite's LOWER() only folds ASCII, so search uses this. */
  @Column({ name: 'search_text', type: 'text', select: false })
  searchText: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
