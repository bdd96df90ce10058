import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { InvalidAnalysisError } from '../ai/analysis/analysis-parser.js';
import { GigaChatApiError, GigaChatAuthError, GigaChatError, GigaChatNetworkError } from '../ai/gigachat/gigachat.errors.js';
import type { ConversationEntry } from '../ai/prompts/support-prompt.js';
import { type TicketAnalysis, TicketAnalyzer } from '../ai/ticket-analyzer.js';
import { AppConfig } from '../config/app-config.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { KnowledgeBaseService } from '../knowledge-base/knowledge-base.service.js';
import { DispatchService } from '../notifications/dispatch.service.js';
import { DeliveryStatus, type Message, MessageChannel, MessageDirection } from '../tickets/entities/message.entity.js';
import { TicketEventType } from '../tickets/entities/ticket-event.entity.js';
import type { Ticket, TicketArticleRef } from '../tickets/entities/ticket.entity.js';
import { MessagesRepository } from '../tickets/messages.repository.js';
import { TicketStatus } from '../tickets/ticket-status.js';
import { type PendingEvent, type TicketPatch, TicketsRepository } from '../tickets/tickets.repository.js';
import { applyDecisionPolicy, escalateBecause, type PolicyOutcome } from './decision-policy.js';
import { TicketOutcomes } from './ticket-outcomes.js';
import { type ProcessingResult, type TicketClaim, TicketProcessor } from './ticket-queue.js';

/** Articles given to the AI per ticket: enough to ground an answer, few enough to keep the prompt focused. */
export const ARTICLES_PER_PROMPT = 4;

/**
 * Claims of one ticket since its last decision after which it is escalated without asking the AI
 * again: runs that never recorded a decision (a crash, a database refusing the write) would
 * otherwise repeat, and bill GigaChat, at every lease for ever.
 */
export const MAX_PROCESSING_ATTEMPTS = 5;

/** What our own replies count as in the conversation the AI reads. */
const REPLIES_IN_CONVERSATION = new Set([DeliveryStatus.Sent, DeliveryStatus.Pending, DeliveryStatus.Sending, DeliveryStatus.Uncertain]);

interface Analysed {
  outcome: PolicyOutcome;
  patch: TicketPatch;
}

/**
 * Coordinates one ticket from `processing` to its final status (SPEC.md): finds the knowledge-base
 * articles, asks the AI, applies the decision policy, and hands the decision to dispatch in the
 * same transaction that records it. Every step is an event on the ticket. It fails closed: no AI
 * configured, an exhausted retry budget, an invalid answer or low confidence all end in an
 * escalation with the reason, never in a ticket stuck in `processing`.
 */
@Injectable()
export class TicketOrchestrator extends TicketProcessor {
  private readonly logger = new Logger(TicketOrchestrator.name);

  constructor(
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly tickets: TicketsRepository,
    private readonly messages: MessagesRepository,
    private readonly knowledgeBase: KnowledgeBaseService,
    private readonly analyzer: TicketAnalyzer,
    private readonly dispatch: DispatchService,
    private readonly outcomes: TicketOutcomes,
  ) {
    super();
  }

  async process(ticket: Ticket, claim: TicketClaim): Promise<ProcessingResult> {
    const revision = ticket.revision;
    // Every step is an event, each with the time it happened, written in as few transactions as
    // possible: the ones before the AI call while it runs, the rest with the decision.
    const events = new EventBuffer();
    events.add(TicketEventType.StatusChanged, `${TicketStatus.Received} → ${TicketStatus.Processing}`, {
      from: TicketStatus.Received,
      to: TicketStatus.Processing,
      attempt: ticket.processingAttempts,
      revision,
    });

    let analysed: Analysed;
    let messages: Message[] = [];
    try {
      messages = await this.messages.conversationOf(ticket.id);
      if (ticket.processingAttempts > MAX_PROCESSING_ATTEMPTS) {
        const reason = `processing started ${ticket.processingAttempts} times without recording a decision; escalated without asking the AI again`;
        this.logger.warn({ msg: 'ticket keeps failing; escalating', ticketId: ticket.id, attempts: ticket.processingAttempts });
        events.add(TicketEventType.Error, `Processing attempt ${ticket.processingAttempts}: earlier attempts never recorded a decision`);
        analysed = { outcome: escalateBecause(reason), patch: {} };
      } else {
        analysed = await this.analyse(ticket, messages, events);
      }
    } catch (error) {
      // A bug or a database hiccup mid-analysis: still a decision, not a stuck ticket.
      this.logger.error({ msg: 'analysis failed unexpectedly', ticketId: ticket.id, err: error instanceof Error ? error.stack : String(error) });
      events.add(TicketEventType.Error, `Internal error during analysis: ${describe(error)}`);
      analysed = { outcome: escalateBecause(`internal error during analysis (${describe(error)})`), patch: {} };
    }
    if (claim.lost) return 'done'; // another process took the ticket over; its result wins
    return this.decide(ticket, claim, revision, analysed, messages, events);
  }

  private async analyse(ticket: Ticket, messages: Message[], events: EventBuffer): Promise<Analysed> {
    const latest = latestCustomerMessage(messages);
    await this.knowledgeBase.whenLoaded();
    const articles = this.knowledgeBase.findForEmail(latest?.subject ?? ticket.subject, latest?.cleanText ?? latest?.text ?? '', ARTICLES_PER_PROMPT);
    events.add(TicketEventType.KnowledgeBaseSearched, `${articles.length} article(s) found`, {
      articles: articles.map((a) => ({ id: a.id, score: a.score })),
    });
    const kbArticles = articles.map((a): TicketArticleRef => ({ id: a.id, title: a.title, score: a.score }));

    if (!this.analyzer.isConfigured) {
      return { outcome: escalateBecause('AI is not configured (GIGACHAT_AUTH_KEY is not set)'), patch: { kbArticles } };
    }

    const requestId = `${ticket.id}.${ticket.revision}.${ticket.processingAttempts}`;
    events.add(TicketEventType.AiRequested, `Asked ${this.config.gigachat.model} for a decision`, {
      requestId,
      articles: articles.length,
      messages: messages.length,
    });
    // The steps so far are written while the AI call runs (not before it): the trail shows an
    // attempt a crash interrupted, and the call does not wait for the database.
    const steps = events.take();
    const recorded = this.uow.transaction((tx) => this.tickets.addEvents(tx, ticket.id, steps)).catch((error: unknown) => {
      events.restore(steps); // written with the decision instead
      this.logger.warn({ msg: 'could not record analysis steps yet', ticketId: ticket.id, err: String(error) });
    });
    let result: TicketAnalysis;
    try {
      result = await this.analyzer.analyze(
        { ticketNumber: ticket.number, subject: ticket.subject, articles, conversation: conversationOf(messages) },
        requestId,
      );
    } catch (error) {
      await recorded;
      const reason = aiFailureReason(error);
      const completion = error instanceof InvalidAnalysisError ? error.completion : undefined;
      events.add(TicketEventType.AiFailed, `AI call failed: ${reason}`, {
        requestId,
        error: error instanceof Error ? error.name : 'Error',
        ...(completion ? { model: completion.model, usage: completion.usage, latencyMs: completion.latencyMs } : {}),
      });
      this.logger.warn({ msg: 'AI analysis failed; escalating', ticketId: ticket.id, reason });
      return {
        outcome: escalateBecause(reason),
        patch: {
          kbArticles,
          ...(completion ? usagePatch(completion.model, completion.usage, completion.latencyMs) : {}),
        },
      };
    }

    await recorded;
    const { analysis } = result;
    const used = new Set(analysis.usedArticleIds);
    events.add(TicketEventType.AiCompleted, `AI decided ${analysis.decision}`, {
      requestId: result.requestId,
      model: result.model,
      decision: analysis.decision,
      confidence: analysis.confidence,
      usage: result.usage,
      latencyMs: result.latencyMs,
      attempts: result.attempts,
      usedArticleIds: analysis.usedArticleIds.filter((id) => articles.some((a) => a.id === id)),
      missingDetails: analysis.missingDetails,
    });
    return {
      outcome: applyDecisionPolicy(analysis, { minConfidence: this.config.processing.aiMinConfidence, givenArticleIds: articles.map((a) => a.id) }),
      patch: {
        customerName: analysis.fullName ?? ticket.customerName,
        issueSummary: analysis.issueSummary,
        confidence: analysis.confidence,
        language: analysis.language,
        kbArticles: kbArticles.map((a) => ({ ...a, usedByAi: used.has(a.id) })),
        aiPromptVersion: result.promptVersion,
        ...usagePatch(result.model, result.usage, result.latencyMs),
      },
    };
  }

  /**
   * Records the decision, the steps that led to it and the message it sends, in one transaction,
   * if the claim and the revision still hold (a newer customer message means the analysis is stale).
   */
  private async decide(
    ticket: Ticket,
    claim: TicketClaim,
    revision: number,
    analysed: Analysed,
    messages: Message[],
    events: EventBuffer,
  ): Promise<ProcessingResult> {
    const replyTo = latestCustomerMessage(messages);
    const { outcome, patch } = analysed;
    const plan = await this.uow.transaction(async (tx) => {
      const now = new Date();
      const plan = await this.dispatch.plan(tx, ticket, outcome, replyTo, now);
      const completed = await this.tickets.completeClaim(tx, ticket, claim.token, revision, {
        ...patch,
        decision: plan.decision,
        status: plan.status,
        statusReason: plan.statusReason,
        draftReply: outcome.draftReply,
      }, now);
      if (!completed) return null;
      events.add(TicketEventType.DecisionMade, describeDecision(outcome, plan.decision, plan.statusReason), {
        decision: plan.decision,
        aiDecision: outcome.decision,
        reason: plan.statusReason,
      });
      events.add(TicketEventType.StatusChanged, `${TicketStatus.Processing} → ${plan.status}`, { from: TicketStatus.Processing, to: plan.status });
      await events.flush(tx, this.tickets, ticket.id);
      await this.dispatch.execute(tx, ticket, plan, outcome, replyTo, now);
      return plan;
    });

    if (!plan) return this.handBack(ticket.id, claim, revision, events);
    this.dispatch.deliverSoon(plan);
    this.outcomes.notifyDecided(ticket.id);
    this.logger.log({ msg: 'ticket decided', ticketId: ticket.id, ticketNumber: ticket.number, decision: plan.decision, status: plan.status, reason: plan.statusReason ?? undefined });
    return 'done';
  }

  /**
   * The decision could not be recorded: either a newer customer message arrived while we analysed
   * (the analysis is stale: hand the ticket back to redo it with the whole conversation), or the
   * claim was taken over after our lease lapsed (the other worker's result wins).
   */
  private async handBack(ticketId: string, claim: TicketClaim, revision: number, events: EventBuffer): Promise<ProcessingResult> {
    const current = await this.tickets.findById(ticketId);
    if (!current || current.claimToken !== claim.token) return 'done';
    events.add(TicketEventType.AnalysisDiscarded, 'A new message arrived during the analysis; analysing again with the whole conversation', {
      analysedRevision: revision,
      currentRevision: current.revision,
    });
    await this.uow.transaction((tx) => events.flush(tx, this.tickets, ticketId));
    const released = await this.tickets.releaseClaim(ticketId, claim.token);
    return released ? 'requeue' : 'done';
  }
}

/** Steps of one processing run, written to the audit trail in as few transactions as possible. */
class EventBuffer {
  private pending: PendingEvent[] = [];

  add(type: TicketEventType, message: string, data?: Record<string, unknown>): void {
    this.pending.push({ type, message, data, at: new Date() });
  }

  /** The events so far, to be written elsewhere; the buffer keeps what comes after. */
  take(): PendingEvent[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  /** Puts back events whose write failed, ahead of the newer ones. */
  restore(events: PendingEvent[]): void {
    this.pending = [...events, ...this.pending];
  }

  async flush(tx: EntityManager, tickets: TicketsRepository, ticketId: string): Promise<void> {
    await tickets.addEvents(tx, ticketId, this.take());
  }
}

function latestCustomerMessage(messages: Message[]): Message | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.direction === MessageDirection.Inbound && m.deliveryStatus !== DeliveryStatus.Ignored) return m;
  }
  return null;
}

/** Every message of the ticket the AI should read, oldest first: the customer's and our replies. */
function conversationOf(messages: Message[]): ConversationEntry[] {
  const entries: ConversationEntry[] = [];
  for (const m of messages) {
    if (m.direction === MessageDirection.Inbound && m.deliveryStatus !== DeliveryStatus.Ignored) {
      entries.push({
        author: 'customer',
        from: m.fromName ? `${m.fromName} <${m.fromAddress}>` : (m.fromAddress ?? 'unknown'),
        at: m.receivedAt ?? m.createdAt,
        subject: m.subject,
        text: m.cleanText ?? m.text ?? '',
      });
    } else if (m.direction === MessageDirection.Outbound && m.channel === MessageChannel.Email && REPLIES_IN_CONVERSATION.has(m.deliveryStatus)) {
      entries.push({ author: 'support', from: m.fromAddress ?? 'support', at: m.createdAt, subject: m.subject, text: m.text ?? '' });
    }
  }
  return entries;
}

function usagePatch(model: string, usage: TicketAnalysis['usage'], latencyMs: number): TicketPatch {
  return {
    aiModel: model.slice(0, 64),
    aiPromptTokens: usage?.promptTokens ?? null,
    aiCompletionTokens: usage?.completionTokens ?? null,
    aiTotalTokens: usage?.totalTokens ?? null,
    aiLatencyMs: latencyMs,
  };
}

/** Why the AI path failed, in words for the operator who gets the escalation. */
function aiFailureReason(error: unknown): string {
  if (error instanceof InvalidAnalysisError) return error.message;
  if (error instanceof GigaChatAuthError) return `GigaChat refused our credentials (${error.message})`;
  if (error instanceof GigaChatApiError) {
    return error.retryable ? `GigaChat kept failing after retries (${error.message})` : `GigaChat refused the request (${error.message})`;
  }
  if (error instanceof GigaChatNetworkError) return `GigaChat could not be reached after retries (${error.message})`;
  if (error instanceof GigaChatError) return error.message;
  return `AI call failed (${describe(error)})`;
}

function describeDecision(outcome: PolicyOutcome, decision: string, reason: string | null): string {
  if (decision === outcome.decision) return reason ? `Decision ${decision}: ${reason}` : `Decision ${decision}`;
  return `AI proposed ${outcome.decision}; decision ${decision}: ${reason ?? ''}`.trim();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
