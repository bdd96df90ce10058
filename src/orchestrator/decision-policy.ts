import type { AiAnalysis } from '../ai/analysis/ai-analysis.dto.js';
import { Decision } from '../tickets/ticket-status.js';

export interface PolicyContext {
  /** AI_MIN_CONFIDENCE. */
  minConfidence: number;
  /** Ids of the knowledge-base articles the prompt gave the AI. */
  givenArticleIds: readonly string[];
}

export interface PolicyOutcome {
  decision: Decision;
  /** Why the ticket goes to a human; null for automatic answers. */
  reason: string | null;
  /** The text for the customer (or, for escalations, the draft for the operator). */
  draftReply: string | null;
}

/**
 * The guard between the AI's answer and the customer. Pure, so every rule is unit-tested. A
 * full_answer goes to the customer unchecked by anyone, so it must pass every test; failing one,
 * it goes to an operator with the draft instead:
 * - its confidence is at least AI_MIN_CONFIDENCE (none given counts as failing: the schema asks
 *   for it, and a model that leaves it out has not followed the instructions);
 * - it is grounded: it names at least one of the articles the prompt gave (none, or only ids that
 *   were not given, means it answered from somewhere else, which the policy forbids).
 * need_more_info goes out as a request for the details; escalate_to_human keeps the AI's reason,
 * or says the AI asked for a human.
 */
export function applyDecisionPolicy(analysis: AiAnalysis, context: PolicyContext): PolicyOutcome {
  switch (analysis.decision) {
    case Decision.FullAnswer: {
      const doubt = fullAnswerDoubt(analysis, context);
      if (doubt) return { decision: Decision.EscalateToHuman, reason: `${doubt}; please check the draft`, draftReply: analysis.draftReply };
      return { decision: Decision.FullAnswer, reason: null, draftReply: analysis.draftReply };
    }
    case Decision.NeedMoreInfo:
      return { decision: Decision.NeedMoreInfo, reason: null, draftReply: analysis.draftReply };
    case Decision.EscalateToHuman:
      return {
        decision: Decision.EscalateToHuman,
        reason: analysis.escalationReason ? `the AI asked for a human: ${analysis.escalationReason}` : 'the AI asked for a human',
        draftReply: analysis.draftReply || null,
      };
  }
}

/** Why a full_answer cannot go out on its own, or null when it can. */
function fullAnswerDoubt(analysis: AiAnalysis, context: PolicyContext): string | null {
  if (analysis.confidence === null) return `the AI gave no confidence for its answer (AI_MIN_CONFIDENCE ${context.minConfidence} cannot be checked)`;
  if (analysis.confidence < context.minConfidence) {
    return `the AI's answer has confidence ${analysis.confidence} (below AI_MIN_CONFIDENCE ${context.minConfidence})`;
  }
  if (context.givenArticleIds.length === 0) return 'no knowledge-base article covers this question, so the answer is not grounded';
  const given = new Set(context.givenArticleIds);
  if (!analysis.usedArticleIds.some((id) => given.has(id))) {
    return 'the answer names none of the knowledge-base articles it was given, so it is not grounded in them';
  }
  return null;
}

/** Fail closed: anything that stops the AI path ends in an escalation with the reason. */
export function escalateBecause(reason: string): PolicyOutcome {
  return { decision: Decision.EscalateToHuman, reason, draftReply: null };
}
