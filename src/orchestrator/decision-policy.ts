import type { AiAnalysis } from '../ai/analysis/ai-analysis.dto.js';
import { Decision } from '../tickets/ticket-status.js';

export interface PolicyContext {
  /** AI_MIN_CONFIDENCE. */
  minConfidence: number;
}

export interface PolicyOutcome {
  decision: Decision;
  /** Why the ticket goes to a human; null for automatic answers. */
  reason: string | null;
  /** The text for the customer (or, for escalations, the draft for the operator). */
  draftReply: string | null;
}

/**
 * The guard between the AI's answer and the customer. Pure, so every rule is unit-tested:
 * - a full_answer below AI_MIN_CONFIDENCE is escalated instead (no confidence given: not applied,
 *   since the four seed fields alone are a valid answer);
 * - need_more_info goes out as a request for the details;
 * - escalate_to_human keeps the AI's reason, or says the AI asked for a human.
 */
export function applyDecisionPolicy(analysis: AiAnalysis, context: PolicyContext): PolicyOutcome {
  switch (analysis.decision) {
    case Decision.FullAnswer:
      if (analysis.confidence !== null && analysis.confidence < context.minConfidence) {
        return {
          decision: Decision.EscalateToHuman,
          reason: `the AI's answer has confidence ${analysis.confidence} (below AI_MIN_CONFIDENCE ${context.minConfidence}); please check the draft`,
          draftReply: analysis.draftReply,
        };
      }
      return { decision: Decision.FullAnswer, reason: null, draftReply: analysis.draftReply };
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

/** Fail closed: anything that stops the AI path ends in an escalation with the reason. */
export function escalateBecause(reason: string): PolicyOutcome {
  return { decision: Decision.EscalateToHuman, reason, draftReply: null };
}
