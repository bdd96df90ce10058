import { Injectable } from '@nestjs/common';
import { type AiAnalysis } from './analysis/ai-analysis.dto.js';
import { InvalidAnalysisError, parseAnalysis } from './analysis/analysis-parser.js';
import { DECISION_FUNCTION, DECISION_FUNCTION_NAME } from './analysis/analysis.schema.js';
import { LlmClient, type TokenUsage } from './llm-client.js';
import { buildSupportPrompt, PROMPT_VERSION, type SupportPromptInput } from './prompts/support-prompt.js';

/** Low but above 0 (GigaChat refuses 0): the same e-mail should get the same decision. */
const TEMPERATURE = 0.1;
const MAX_TOKENS = 1500;

export interface TicketAnalysis {
  analysis: AiAnalysis;
  model: string;
  usage: TokenUsage | null;
  latencyMs: number;
  attempts: number;
  requestId: string;
  promptVersion: string;
}

/** Asks the language model for the decision on one ticket, in the seed's JSON shape, validated. */
@Injectable()
export class TicketAnalyzer {
  constructor(private readonly llm: LlmClient) {}

  get isConfigured(): boolean {
    return this.llm.isConfigured;
  }

  /** Throws GigaChat errors (after the client's retries) and InvalidAnalysisError. */
  async analyze(input: SupportPromptInput, requestId: string): Promise<TicketAnalysis> {
    const completion = await this.llm.chat({
      messages: buildSupportPrompt(input),
      functions: [DECISION_FUNCTION],
      forceFunction: DECISION_FUNCTION_NAME,
      temperature: TEMPERATURE,
      maxTokens: MAX_TOKENS,
      requestId,
    });
    let analysis: AiAnalysis;
    try {
      analysis = parseAnalysis(completion);
    } catch (error) {
      if (error instanceof InvalidAnalysisError) {
        const { model, usage, latencyMs, attempts, requestId: id } = completion;
        error.completion = { model, usage, latencyMs, attempts, requestId: id };
      }
      throw error;
    }
    return {
      analysis,
      model: completion.model,
      usage: completion.usage,
      latencyMs: completion.latencyMs,
      attempts: completion.attempts,
      requestId: completion.requestId,
      promptVersion: PROMPT_VERSION,
    };
  }
}
