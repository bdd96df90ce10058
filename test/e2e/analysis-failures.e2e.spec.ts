import type { PeerReply } from '../peers/gigachat.peer.js';
import { testDatabases } from '../support/databases.js';
import { customerEmail, outboxSettled, postEmail, type TicketDetail, waitForTicket } from '../support/http.js';
import { MAX_PROCESSING_ATTEMPTS } from '../../src/orchestrator/ticket-orchestrator.js';
import { type InProcessTicketQueue } from '../../src/orchestrator/in-process-ticket-queue.js';
import { TicketQueue } from '../../src/orchestrator/ticket-queue.js';
import { decisionReply, promptText, type Stack, stackForSuite } from '../support/stack.js';

/**
 * The orchestrator fails closed (SPEC.md): whatever stops the AI path ends in an escalation with its
 * reason, the operators hear about it in Telegram, the customer gets no e-mail, and no ticket stays
 * in `processing`.
 */

const eventTypes = (ticket: TicketDetail) => ticket.events.map((e) => e.type);

/** Posts a customer e-mail and waits until its ticket is decided and its messages are delivered. */
async function submitAndSettle(stack: Stack, subject = 'Возврат кроссовок'): Promise<TicketDetail> {
  const accepted = await postEmail(stack.t, customerEmail({ subject })).expect(202);
  return waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
}

/** The ticket ended escalated with `reason`, the operators got exactly one Telegram notice, the customer no e-mail. */
function expectEscalated(stack: Stack, ticket: TicketDetail, reason: RegExp | string): void {
  expect(ticket.status).toBe('escalated');
  expect(ticket.decision).toBe('escalate_to_human');
  if (typeof reason === 'string') expect(ticket.statusReason).toBe(reason);
  else expect(ticket.statusReason).toMatch(reason);

  const types = eventTypes(ticket);
  expect(types).toContain('decision.made');
  expect(ticket.events.find((e) => e.type === 'decision.made')?.data).toMatchObject({ decision: 'escalate_to_human', reason: ticket.statusReason });
  expect(ticket.events.filter((e) => e.type === 'status.changed').map((e) => e.data)).toEqual([
    expect.objectContaining({ from: 'received', to: 'processing' }),
    expect.objectContaining({ from: 'processing', to: 'escalated' }),
  ]);

  expect(stack.telegram!.messages).toHaveLength(1);
  const notice = stack.telegram!.messages[0].visibleText;
  expect(notice).toContain(`Тикет #${ticket.number}`);
  expect(notice).toContain(ticket.statusReason!.slice(0, 60));
  const outbound = ticket.messages.filter((m) => m.direction === 'outbound');
  expect(outbound.map((m) => [m.channel, m.kind, m.deliveryStatus])).toEqual([['telegram', 'escalation', 'sent']]);
  expect(stack.smtp!.mails).toHaveLength(0);
}

/** `ai.requested` then `ai.failed`, with the reason in the failure event. */
function expectAiFailed(ticket: TicketDetail): void {
  const types = eventTypes(ticket);
  const requested = types.indexOf('ai.requested');
  const failed = types.indexOf('ai.failed');
  expect(requested).toBeGreaterThanOrEqual(0);
  expect(failed).toBeGreaterThan(requested);
  expect(types.indexOf('decision.made')).toBeGreaterThan(failed);
  expect(types).not.toContain('ai.completed');
  expect(ticket.events[failed].message).toBe(`AI call failed: ${ticket.statusReason}`);
}

describe.each(testDatabases())('analysis failures end in an escalation on %s', (kind) => {
  describe('with GigaChat configured', () => {
    const stack = stackForSuite(kind);

    beforeEach(() => {
      stack.gigachat!.setResponder(undefined);
      stack.gigachat!.setLatency(0);
    });

    it('GigaChat answering 500 on every call: escalated after the retry budget, saying so', async () => {
      stack.gigachat!.setResponder(() => ({ status: 500 }));
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, /^GigaChat kept failing after retries \(GigaChat API error: HTTP 500: Internal Server Error\)$/);
      expectAiFailed(ticket);
      // GIGACHAT_MAX_RETRIES defaults to 3: one call and three retries.
      expect(stack.gigachat!.stats.chatCalls).toBe(4);
    });

    it('GigaChat unreachable (connection dropped): escalated after the retries', async () => {
      stack.gigachat!.setResponder(() => ({ dropConnection: true }));
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, /^GigaChat could not be reached after retries \(GigaChat unreachable/);
      expectAiFailed(ticket);
      expect(stack.gigachat!.stats.chatCalls).toBe(4);
    });

    it('GigaChat answering 422: escalated at once, without a retry', async () => {
      // A retry would get a good answer: the escalation proves there was none.
      stack.gigachat!.script({ status: 422, body: { status: 422, message: 'Invalid params: max_tokens is too large' } }, decisionReply({ decision: 'full_answer' }));
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, 'GigaChat refused the request (GigaChat API error: HTTP 422: Invalid params: max_tokens is too large)');
      expectAiFailed(ticket);
      expect(stack.gigachat!.stats.chatCalls).toBe(1);
    });

    it.each<[string, PeerReply, RegExp]>([
      ['empty arguments', { functionCall: {} }, /decision/],
      ['a decision outside the three', decisionReply({ decision: 'answer_later' as 'full_answer' }), /decision must be one of/],
      ['finish_reason "blacklist"', decisionReply({ decision: 'full_answer' }, { finishReason: 'blacklist' }), /declined the topic/],
      ['finish_reason "length"', decisionReply({ decision: 'full_answer' }, { finishReason: 'length' }), /cut off/],
      ['prose without JSON', { content: 'Извините, я не могу ответить на этот вопрос.' }, /no JSON object/],
      ['an empty draft for full_answer', decisionReply({ decision: 'full_answer', draft_reply: '' }), /draft_reply is empty for full_answer/],
    ])('an invalid AI answer (%s): escalated with "Invalid AI answer: …", not retried', async (_case, reply, detail) => {
      stack.gigachat!.script(reply, decisionReply({ decision: 'full_answer' }));
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, /^Invalid AI answer: /);
      expect(ticket.statusReason).toMatch(detail);
      expectAiFailed(ticket);
      expect(stack.gigachat!.stats.chatCalls).toBe(1);
      // The call that produced the unusable answer is still accounted for on the ticket.
      expect(ticket.ai.model).toMatch(/^GigaChat:/);
      expect(ticket.ai.totalTokens).toBeGreaterThan(0);
    });

    it('a full_answer below AI_MIN_CONFIDENCE (0.6 by default) is escalated with the draft for the operator', async () => {
      const draft = 'Здравствуйте, Иван! Вернуть товар можно в течение 14 дней. Служба поддержки';
      stack.gigachat!.script(decisionReply({ decision: 'full_answer', confidence: 0.3, draft_reply: draft }));
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, /confidence 0\.3 \(below AI_MIN_CONFIDENCE 0\.6\)/);
      expect(eventTypes(ticket)).toContain('ai.completed');
      expect(eventTypes(ticket)).not.toContain('ai.failed');
      expect(ticket.confidence).toBe(0.3);
      expect(ticket.draftReply).toBe(draft);
      expect(stack.telegram!.messages[0].visibleText).toContain(draft);
    });

    it('with AI_MIN_CONFIDENCE=0.2 the same answer goes out to the customer', async () => {
      await stack.restart({ AI_MIN_CONFIDENCE: '0.2' });
      try {
        stack.gigachat!.script(decisionReply({ decision: 'full_answer', confidence: 0.3 }));
        const ticket = await submitAndSettle(stack);
        expect(ticket).toMatchObject({ status: 'answered', decision: 'full_answer', confidence: 0.3 });
        expect(stack.smtp!.mails).toHaveLength(1);
        expect(stack.telegram!.messages).toHaveLength(0);
      } finally {
        await stack.restart();
      }
    });

    it('a full_answer that cites none of the articles it was given is escalated: not grounded', async () => {
      stack.gigachat!.script(decisionReply({ decision: 'full_answer', used_article_ids: [] }));
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, /names none of the knowledge-base articles it was given/);
      expect(ticket.articles.length).toBeGreaterThan(0);
      expect(ticket.articles.every((a) => !a.usedByAi)).toBe(true);
    });

    it('a full_answer to a question no article covers is escalated, however confident', async () => {
      // Nothing in the shop's knowledge base matches these words: the prompt says so, and the policy holds to it.
      stack.gigachat!.script(decisionReply({ decision: 'full_answer', confidence: 1, used_article_ids: ['returns/how-to-return'] }));
      const accepted = await postEmail(stack.t, customerEmail({ subject: 'Квантовая хромодинамика', text: 'Объясните глюонные струи и конфайнмент кварков.' })).expect(202);
      const ticket = await waitForTicket(stack.t, accepted.body.ticketId, outboxSettled);
      expect(ticket.articles).toEqual([]);
      expectEscalated(stack, ticket, /no knowledge-base article covers this question/);
      expect(promptText(stack.gigachat!.chatBodies[0])).toContain('подходящих статей не найдено');
    });

    it('a full_answer without a confidence is escalated: the threshold cannot be checked', async () => {
      stack.gigachat!.script({ functionCall: { full_name: 'Иван Петров', issue_summary: 'Возврат', decision: 'full_answer', draft_reply: 'Здравствуйте! Служба поддержки' } });
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, /gave no confidence/);
    });

    it('a ticket whose runs keep ending without a decision is escalated after MAX_PROCESSING_ATTEMPTS, without asking the AI again', async () => {
      stack.gigachat!.script(decisionReply({ decision: 'full_answer' }));
      const first = await submitAndSettle(stack);
      expect(first.status).toBe('answered');
      stack.telegram!.reset();
      stack.smtp!.reset();
      stack.gigachat!.reset();
      // As five crashed runs leave it: waiting again, five claims since its last decision.
      await stack.t.dataSource.query(`UPDATE "tickets" SET "status" = 'received', "processing_attempts" = ${MAX_PROCESSING_ATTEMPTS} WHERE "id" = '${first.id}'`);
      await (stack.t.app.get(TicketQueue) as InProcessTicketQueue).sweep();
      const ticket = await waitForTicket(stack.t, first.id, (t) => t.status === 'escalated' && outboxSettled(t));
      expect(ticket.statusReason).toBe(`processing started ${MAX_PROCESSING_ATTEMPTS + 1} times without recording a decision; escalated without asking the AI again`);
      expect(stack.gigachat!.stats.chatCalls).toBe(0);
      expect(stack.telegram!.messages).toHaveLength(1);
      expect(stack.smtp!.mails).toHaveLength(0);
      // The count starts again after a decision: the customer's next message is analysed as usual.
      const [{ attempts }] = await stack.t.dataSource.query(`SELECT "processing_attempts" AS "attempts" FROM "tickets" WHERE "id" = '${first.id}'`);
      expect(Number(attempts)).toBe(0);
    });

    it('GigaChat refusing the key: escalated with the OAuth error, the API never called', async () => {
      const wrongKey = Buffer.from('someone-else:not-the-secret').toString('base64');
      await stack.restart({ GIGACHAT_AUTH_KEY: wrongKey });
      try {
        const ticket = await submitAndSettle(stack);
        expectEscalated(stack, ticket, /^GigaChat refused our credentials \(GigaChat OAuth failed: HTTP 401 code 6: credentials doesn't match db data\)$/);
        expectAiFailed(ticket);
        expect(stack.gigachat!.stats.oauthCalls).toBe(1);
        expect(stack.gigachat!.stats.chatCalls).toBe(0);
        expect(JSON.stringify(ticket)).not.toContain(wrongKey);
      } finally {
        await stack.restart();
      }
    });
  });

  describe('without GIGACHAT_AUTH_KEY', () => {
    const stack = stackForSuite(kind, { gigachat: false });

    it('every ticket is escalated because AI is not configured, with the articles still found', async () => {
      const ticket = await submitAndSettle(stack);
      expectEscalated(stack, ticket, 'AI is not configured (GIGACHAT_AUTH_KEY is not set)');
      const types = eventTypes(ticket);
      expect(types).not.toContain('ai.requested');
      expect(types.indexOf('kb.searched')).toBeLessThan(types.indexOf('decision.made'));
      expect(ticket.articles.map((a) => a.id)).toContain('returns/how-to-return');
    });
  });
});
