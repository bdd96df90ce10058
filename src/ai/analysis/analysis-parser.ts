import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { flattenValidationErrors } from '../../common/validation.js';
import { withoutNul } from '../../common/without-nul.js';
import { Decision } from '../../tickets/ticket-status.js';
import type { ChatCompletion } from '../llm-client.js';
import { type AiAnalysis, AiAnalysisDto } from './ai-analysis.dto.js';
import { DECISION_FUNCTION_NAME } from './analysis.schema.js';

/** The model answered, but not with something we can act on. Never retried: escalated instead. */
export class InvalidAnalysisError extends Error {
  /** The call that produced the unusable answer (model, usage), for the ticket's audit trail. */
  completion?: Pick<ChatCompletion, 'model' | 'usage' | 'latencyMs' | 'attempts' | 'requestId'>;

  constructor(reason: string) {
    super(`Invalid AI answer: ${reason}`);
    this.name = 'InvalidAnalysisError';
  }
}

const REFUSED_FINISH_REASONS: Record<string, string> = {
  blacklist: 'GigaChat declined the topic (finish_reason "blacklist")',
  length: 'the answer was cut off at the token limit (finish_reason "length")',
  error: 'the model produced invalid function arguments (finish_reason "error")',
};

/**
 * The analysis out of a completion: the forced function call's arguments (an object, or a JSON
 * string), or, when the model answered in `content`, the JSON found in a code fence or in the prose.
 * Validated against AiAnalysisDto; anything unusable throws InvalidAnalysisError.
 */
export function parseAnalysis(completion: ChatCompletion): AiAnalysis {
  const refused = REFUSED_FINISH_REASONS[completion.finishReason];
  if (refused) throw new InvalidAnalysisError(refused);

  let raw: unknown;
  if (completion.functionCall && completion.functionCall.name === DECISION_FUNCTION_NAME) {
    raw = completion.functionCall.arguments;
    if (typeof raw === 'string') raw = parseJson(raw, 'function_call.arguments');
  } else if (completion.content.trim()) {
    raw = extractJson(completion.content);
  } else {
    throw new InvalidAnalysisError(
      completion.functionCall ? `called an unknown function "${completion.functionCall.name}"` : 'the answer is empty',
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidAnalysisError('the arguments are not a JSON object');

  // NUL removed first: PostgreSQL refuses it, and a decision that cannot be stored would be retried for ever.
  const dto = plainToInstance(AiAnalysisDto, withoutNul(raw));
  const errors = validateSync(dto, { whitelist: true, forbidUnknownValues: true });
  if (errors.length) {
    const details = flattenValidationErrors(errors).map((e) => `${e.field} ${e.message}`);
    throw new InvalidAnalysisError(details.join('; '));
  }
  if (!dto.issue_summary.trim()) throw new InvalidAnalysisError('issue_summary is empty');
  if ((dto.decision === Decision.FullAnswer || dto.decision === Decision.NeedMoreInfo) && !dto.draft_reply.trim()) {
    throw new InvalidAnalysisError(`draft_reply is empty for ${dto.decision}`);
  }
  return {
    fullName: dto.full_name.trim() || null,
    issueSummary: dto.issue_summary.trim(),
    decision: dto.decision,
    draftReply: dto.draft_reply.trim(),
    confidence: dto.confidence ?? null,
    language: dto.language?.trim().toLowerCase() || null,
    usedArticleIds: [...new Set(dto.used_article_ids ?? [])],
    missingDetails: dto.missing_details ?? [],
    escalationReason: dto.escalation_reason?.trim() || null,
  };
}

/** The first JSON object in free text: a ```json fence if there is one, else the first balanced {...}. */
export function extractJson(text: string): unknown {
  for (const fence of text.matchAll(/```[a-zA-Z]*\s*\n?([\s\S]*?)```/g)) {
    const candidate = fence[1].trim();
    if (candidate.startsWith('{')) return parseJson(candidate, 'the fenced JSON');
  }
  let searchFrom = 0;
  for (;;) {
    const start = text.indexOf('{', searchFrom);
    if (start < 0) throw new InvalidAnalysisError('no JSON object in the answer');
    const end = balancedEnd(text, start);
    if (end > 0) {
      try {
        return JSON.parse(text.slice(start, end + 1));
      } catch {
        // not JSON after all (prose with braces): look further
      }
    }
    searchFrom = start + 1;
  }
}

/** Index of the brace closing the object opened at `start`, skipping strings; -1 if unbalanced. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  return -1;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidAnalysisError(`${what} is not valid JSON (${error instanceof Error ? error.message : 'parse error'})`);
  }
}
