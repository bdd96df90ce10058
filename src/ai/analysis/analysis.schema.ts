import type { FunctionDefinition } from '../llm-client.js';
import { Decision } from '../../tickets/ticket-status.js';

export const DECISION_FUNCTION_NAME = 'support_decision';

/**
 * The function GigaChat is forced to call: its arguments are the analysis. GigaChat accepts only a
 * subset of JSON Schema: no $ref/anyOf/oneOf/allOf, and every object needs `properties`. The model
 * is asked for the seed's four fields and for what the decision policy checks (confidence, the
 * articles used) and the language; the parser still accepts the seed's four alone, and the policy
 * then escalates a full_answer it cannot check.
 */
export const DECISION_FUNCTION: FunctionDefinition = {
  name: DECISION_FUNCTION_NAME,
  description: 'Записать решение по обращению клиента службы поддержки',
  parameters: {
    type: 'object',
    properties: {
      full_name: {
        type: 'string',
        description: 'Полное имя клиента, как он представился (пустая строка, если неизвестно)',
      },
      issue_summary: { type: 'string', description: 'Суть обращения в одном-двух предложениях' },
      decision: {
        type: 'string',
        enum: Object.values(Decision),
        description:
          'full_answer — ответ полностью есть в статьях; need_more_info — не хватает конкретных данных от клиента; escalate_to_human — нужен оператор',
      },
      draft_reply: {
        type: 'string',
        description: 'Готовый текст письма клиенту на его языке (для escalate_to_human — черновик для оператора или пустая строка)',
      },
      confidence: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        description: 'Насколько ответ подтверждается статьями базы знаний, от 0 до 1',
      },
      language: { type: 'string', description: 'Язык клиента, код ISO 639-1 (ru, en, …)' },
      used_article_ids: {
        type: 'array',
        items: { type: 'string' },
        description: 'id статей базы знаний, на которых основан ответ',
      },
      missing_details: {
        type: 'array',
        items: { type: 'string' },
        description: 'Каких данных не хватает (для need_more_info)',
      },
      escalation_reason: { type: 'string', description: 'Почему нужен оператор (для escalate_to_human)' },
    },
    required: ['full_name', 'issue_summary', 'decision', 'draft_reply', 'confidence', 'language', 'used_article_ids'],
  },
};
