export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A JSON Schema subset GigaChat accepts: no $ref/anyOf/oneOf/allOf, every object has `properties`. */
export interface JsonSchema {
  type: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array';
  description?: string;
  enum?: string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
}

export interface FunctionDefinition {
  name: string;
  description: string;
  parameters: JsonSchema & { type: 'object'; properties: Record<string, JsonSchema> };
}

export interface ChatRequest {
  messages: ChatMessage[];
  functions?: FunctionDefinition[];
  /** Forces the model to answer by calling this function (structured output). */
  forceFunction?: string;
  temperature: number;
  maxTokens?: number;
  /** Correlates our logs with the provider's (sent as X-Request-ID). */
  requestId: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatCompletion {
  content: string;
  functionCall: { name: string; arguments: unknown } | null;
  finishReason: string;
  /** The model that answered, with its version (e.g. `GigaChat:2.0.28.2`). */
  model: string;
  usage: TokenUsage | null;
  requestId: string;
  /** HTTP attempts it took, retries included. */
  attempts: number;
  latencyMs: number;
}

/** The language model behind the analysis. Bound to GigaChatClient in AiModule. */
export abstract class LlmClient {
  /** False without credentials: callers escalate instead of calling. */
  abstract readonly isConfigured: boolean;
  abstract chat(request: ChatRequest): Promise<ChatCompletion>;
}
