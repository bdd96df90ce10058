import type { AiAnalysis } from '../../src/ai/analysis/ai-analysis.dto.js';
import { applyDecisionPolicy, escalateBecause } from '../../src/orchestrator/decision-policy.js';
import { Decision } from '../../src/tickets/ticket-status.js';

/** The guard between the AI's answer and the customer (SPEC.md: AI_MIN_CONFIDENCE, default 0.6). */

const POLICY = { minConfidence: 0.6, givenArticleIds: ['returns/how-to-return', 'returns/refund-timing'] };

function analysis(overrides: Partial<AiAnalysis> = {}): AiAnalysis {
  return {
    fullName: 'Иван Петров',
    issueSummary: 'Клиент хочет вернуть кроссовки',
    decision: Decision.FullAnswer,
    draftReply: 'Здравствуйте! Вернуть товар можно в течение 14 дней. Служба поддержки',
    confidence: 0.9,
    language: 'ru',
    usedArticleIds: ['returns/how-to-return'],
    missingDetails: [],
    escalationReason: null,
    ...overrides,
  };
}

describe('applyDecisionPolicy', () => {
  it('full_answer at or above AI_MIN_CONFIDENCE goes out as the answer', () => {
    expect(applyDecisionPolicy(analysis({ confidence: 0.9 }), POLICY)).toEqual({
      decision: Decision.FullAnswer,
      reason: null,
      draftReply: 'Здравствуйте! Вернуть товар можно в течение 14 дней. Служба поддержки',
    });
    expect(applyDecisionPolicy(analysis({ confidence: 0.6 }), POLICY).decision).toBe(Decision.FullAnswer);
  });

  it('full_answer below AI_MIN_CONFIDENCE is escalated with the reason, keeping the draft for the operator', () => {
    const outcome = applyDecisionPolicy(analysis({ confidence: 0.3 }), POLICY);
    expect(outcome.decision).toBe(Decision.EscalateToHuman);
    expect(outcome.reason).toContain('confidence 0.3');
    expect(outcome.reason).toContain('AI_MIN_CONFIDENCE 0.6');
    expect(outcome.draftReply).toBe('Здравствуйте! Вернуть товар можно в течение 14 дней. Служба поддержки');
  });

  it('uses the configured threshold', () => {
    expect(applyDecisionPolicy(analysis({ confidence: 0.3 }), { ...POLICY, minConfidence: 0.2 }).decision).toBe(Decision.FullAnswer);
    expect(applyDecisionPolicy(analysis({ confidence: 0.95 }), { ...POLICY, minConfidence: 1 }).decision).toBe(Decision.EscalateToHuman);
  });

  it('escalates a full_answer without a confidence: the threshold cannot be checked (fail closed)', () => {
    const outcome = applyDecisionPolicy(analysis({ confidence: null }), POLICY);
    expect(outcome).toMatchObject({ decision: Decision.EscalateToHuman, draftReply: analysis().draftReply });
    expect(outcome.reason).toContain('no confidence');
  });

  it('escalates a full_answer when no article was found for the question', () => {
    const outcome = applyDecisionPolicy(analysis({ usedArticleIds: [] }), { ...POLICY, givenArticleIds: [] });
    expect(outcome.decision).toBe(Decision.EscalateToHuman);
    expect(outcome.reason).toContain('no knowledge-base article covers this question');
    expect(outcome.draftReply).toBe(analysis().draftReply);
  });

  it('escalates a full_answer that cites none of the articles it was given, or only ones it was not given', () => {
    for (const usedArticleIds of [[], ['delivery/made-up-article']]) {
      const outcome = applyDecisionPolicy(analysis({ usedArticleIds }), POLICY);
      expect(outcome.decision).toBe(Decision.EscalateToHuman);
      expect(outcome.reason).toContain('names none of the knowledge-base articles it was given');
    }
  });

  it('lets a full_answer citing one given article among others go out', () => {
    expect(applyDecisionPolicy(analysis({ usedArticleIds: ['delivery/made-up-article', 'returns/refund-timing'] }), POLICY).decision).toBe(Decision.FullAnswer);
  });

  it('asks nothing of need_more_info and escalate_to_human about articles or confidence', () => {
    const bare = { confidence: null, usedArticleIds: [] };
    const none = { ...POLICY, givenArticleIds: [] };
    expect(applyDecisionPolicy(analysis({ ...bare, decision: Decision.NeedMoreInfo }), none).decision).toBe(Decision.NeedMoreInfo);
    expect(applyDecisionPolicy(analysis({ ...bare, decision: Decision.EscalateToHuman }), none).decision).toBe(Decision.EscalateToHuman);
  });

  it('need_more_info goes out as a request for the details, whatever the confidence', () => {
    const draft = 'Подскажите, пожалуйста, номер заказа. Служба поддержки';
    expect(applyDecisionPolicy(analysis({ decision: Decision.NeedMoreInfo, draftReply: draft, confidence: 0.1 }), POLICY)).toEqual({
      decision: Decision.NeedMoreInfo,
      reason: null,
      draftReply: draft,
    });
  });

  it("escalate_to_human keeps the AI's reason and draft", () => {
    expect(
      applyDecisionPolicy(
        analysis({ decision: Decision.EscalateToHuman, escalationReason: 'угроза суда', draftReply: 'Черновик для оператора', confidence: 0.95 }),
        POLICY,
      ),
    ).toEqual({ decision: Decision.EscalateToHuman, reason: 'the AI asked for a human: угроза суда', draftReply: 'Черновик для оператора' });
  });

  it('escalate_to_human without a reason or a draft still says why, with no draft', () => {
    expect(applyDecisionPolicy(analysis({ decision: Decision.EscalateToHuman, escalationReason: null, draftReply: '' }), POLICY)).toEqual({
      decision: Decision.EscalateToHuman,
      reason: 'the AI asked for a human',
      draftReply: null,
    });
  });
});

describe('escalateBecause', () => {
  it('is an escalation with the reason and no draft', () => {
    expect(escalateBecause('AI is not configured (GIGACHAT_AUTH_KEY is not set)')).toEqual({
      decision: Decision.EscalateToHuman,
      reason: 'AI is not configured (GIGACHAT_AUTH_KEY is not set)',
      draftReply: null,
    });
  });
});
