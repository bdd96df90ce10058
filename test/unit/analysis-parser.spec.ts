import { extractJson, InvalidAnalysisError, parseAnalysis } from '../../src/ai/analysis/analysis-parser.js';
import type { ChatCompletion } from '../../src/ai/llm-client.js';

/** What the model returns for one ticket, validated (SPEC.md: the four seed fields are the contract). */

const SEED = {
  full_name: 'Иван Петров',
  issue_summary: 'Клиент хочет вернуть кроссовки',
  decision: 'full_answer',
  draft_reply: 'Здравствуйте, Иван! Вернуть товар можно в течение 14 дней.\n\nСлужба поддержки',
};

const FULL = {
  ...SEED,
  confidence: 0.85,
  language: 'RU ',
  used_article_ids: ['returns/how-to-return', 'returns/how-to-return', 'returns/refund-timing'],
  missing_details: [],
  escalation_reason: '',
};

function completion(overrides: Partial<ChatCompletion> = {}): ChatCompletion {
  return {
    content: '',
    functionCall: null,
    finishReason: 'function_call',
    model: 'GigaChat:2.0.28.2',
    usage: { promptTokens: 100, completionTokens: 50, totalTokens: 150 },
    requestId: 'req-1',
    attempts: 1,
    latencyMs: 12,
    ...overrides,
  };
}

const called = (args: unknown, overrides: Partial<ChatCompletion> = {}) =>
  completion({ functionCall: { name: 'support_decision', arguments: args }, ...overrides });

const answered = (content: string, overrides: Partial<ChatCompletion> = {}) => completion({ content, finishReason: 'stop', ...overrides });

function invalidReason(c: ChatCompletion): string {
  try {
    parseAnalysis(c);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidAnalysisError);
    expect((error as Error).message).toMatch(/^Invalid AI answer: /);
    return (error as Error).message;
  }
  throw new Error('expected the answer to be refused');
}

describe('parseAnalysis: what it keeps', () => {
  it('removes NUL characters from the answer (PostgreSQL cannot store them; the decision would fail for ever)', () => {
    const parsed = parseAnalysis(called({ ...FULL, full_name: 'Иван\u0000 Петров', draft_reply: 'Здравствуйте\u0000!', used_article_ids: ['returns/how\u0000-to-return'] }));
    expect(parsed).toMatchObject({ fullName: 'Иван Петров', draftReply: 'Здравствуйте!', usedArticleIds: ['returns/how-to-return'] });
  });
});

describe('parseAnalysis: where the answer is', () => {
  it('reads function_call.arguments given as an object', () => {
    expect(parseAnalysis(called(FULL))).toEqual({
      fullName: 'Иван Петров',
      issueSummary: 'Клиент хочет вернуть кроссовки',
      decision: 'full_answer',
      draftReply: 'Здравствуйте, Иван! Вернуть товар можно в течение 14 дней.\n\nСлужба поддержки',
      confidence: 0.85,
      language: 'ru',
      usedArticleIds: ['returns/how-to-return', 'returns/refund-timing'],
      missingDetails: [],
      escalationReason: null,
    });
  });

  it('reads function_call.arguments given as a JSON string', () => {
    const analysis = parseAnalysis(called(JSON.stringify({ ...SEED, decision: 'need_more_info', missing_details: ['номер заказа'] })));
    expect(analysis).toMatchObject({ decision: 'need_more_info', missingDetails: ['номер заказа'] });
  });

  it('refuses arguments that are a string but not JSON', () => {
    expect(invalidReason(called('{"full_name": "Иван", '))).toMatch(/function_call\.arguments is not valid JSON/);
  });

  it('reads the answer from content inside a ```json fence', () => {
    const text = `Вот решение:\n\`\`\`json\n${JSON.stringify({ ...SEED, confidence: 0.7 }, null, 2)}\n\`\`\`\nЕсли нужно, уточню.`;
    expect(parseAnalysis(answered(text))).toMatchObject({ decision: 'full_answer', confidence: 0.7, fullName: 'Иван Петров' });
  });

  it('reads the answer from content inside prose, skipping braces that are not JSON', () => {
    const text = `Я проанализировал письмо {кратко}. Ответ: ${JSON.stringify({ ...SEED, decision: 'escalate_to_human', draft_reply: '', escalation_reason: 'жалоба' })} — надеюсь, это поможет.`;
    expect(parseAnalysis(answered(text))).toMatchObject({ decision: 'escalate_to_human', escalationReason: 'жалоба', draftReply: '' });
  });

  it('extractJson keeps braces inside strings', () => {
    expect(extractJson('ответ: {"a": "скобка } внутри", "b": {"c": 1}} конец')).toEqual({ a: 'скобка } внутри', b: { c: 1 } });
  });

  it('refuses content without a JSON object', () => {
    expect(invalidReason(answered('Извините, я не могу помочь с этим вопросом.'))).toMatch(/no JSON object/);
  });

  it('refuses an empty answer and a call of another function', () => {
    expect(invalidReason(completion({ finishReason: 'stop' }))).toMatch(/the answer is empty/);
    expect(invalidReason(completion({ functionCall: { name: 'weather_forecast', arguments: {} } }))).toMatch(/unknown function "weather_forecast"/);
  });

  it('refuses arguments that are not an object', () => {
    expect(invalidReason(called([SEED]))).toMatch(/not a JSON object/);
    expect(invalidReason(called('"full_answer"'))).toMatch(/not a JSON object/);
  });
});

describe('parseAnalysis: finish_reason', () => {
  it.each([
    ['blacklist', /declined the topic/],
    ['length', /cut off at the token limit/],
    ['error', /invalid function arguments/],
  ])('"%s" makes even well-formed arguments invalid', (finishReason, reason) => {
    expect(invalidReason(called(FULL, { finishReason }))).toMatch(reason);
  });

  it('"stop" with a function call is fine', () => {
    expect(parseAnalysis(called(SEED, { finishReason: 'stop' })).decision).toBe('full_answer');
  });
});

describe('parseAnalysis: validation', () => {
  it('refuses empty arguments', () => {
    expect(invalidReason(called({}))).toMatch(/decision/);
  });

  it('refuses a decision outside the three', () => {
    expect(invalidReason(called({ ...SEED, decision: 'answer_later' }))).toMatch(/decision must be one of full_answer, need_more_info, escalate_to_human/);
  });

  it.each(['full_name', 'issue_summary', 'decision', 'draft_reply'])('refuses an answer without the seed field %s', (field) => {
    const args: Record<string, unknown> = { ...SEED };
    delete args[field];
    expect(invalidReason(called(args))).toContain(field);
  });

  it.each(['full_answer', 'need_more_info'])('refuses an empty draft_reply for %s', (decision) => {
    expect(invalidReason(called({ ...SEED, decision, draft_reply: '   ' }))).toMatch(new RegExp(`draft_reply is empty for ${decision}`));
  });

  it('accepts an empty draft_reply for escalate_to_human', () => {
    const analysis = parseAnalysis(called({ ...SEED, decision: 'escalate_to_human', draft_reply: '', escalation_reason: ' угроза суда ' }));
    expect(analysis).toMatchObject({ decision: 'escalate_to_human', draftReply: '', escalationReason: 'угроза суда' });
  });

  it('refuses an empty issue_summary', () => {
    expect(invalidReason(called({ ...SEED, issue_summary: ' ' }))).toMatch(/issue_summary is empty/);
  });

  it.each([1.5, -0.1, '0.9', Number.NaN])('refuses confidence %s', (confidence) => {
    expect(invalidReason(called({ ...SEED, confidence }))).toMatch(/confidence/);
  });

  it.each([0, 1])('accepts confidence %s at the edge of 0..1', (confidence) => {
    expect(parseAnalysis(called({ ...SEED, confidence })).confidence).toBe(confidence);
  });

  it('refuses fields of the wrong type', () => {
    expect(invalidReason(called({ ...SEED, full_name: null }))).toMatch(/full_name/);
    expect(invalidReason(called({ ...SEED, used_article_ids: 'returns/how-to-return' }))).toMatch(/used_article_ids/);
  });

  it('strips unknown extra fields instead of refusing the answer', () => {
    const analysis = parseAnalysis(called({ ...SEED, mood: 'angry', __proto_hack: { admin: true } }));
    expect(analysis.decision).toBe('full_answer');
    expect(Object.keys(analysis).sort()).toEqual(
      ['confidence', 'decision', 'draftReply', 'escalationReason', 'fullName', 'issueSummary', 'language', 'missingDetails', 'usedArticleIds'].sort(),
    );
    expect(JSON.stringify(analysis)).not.toMatch(/mood|angry|__proto_hack/);
  });

  it('accepts the four seed fields alone, with confidence null and safe defaults', () => {
    expect(parseAnalysis(called({ ...SEED, full_name: '' }))).toEqual({
      fullName: null,
      issueSummary: 'Клиент хочет вернуть кроссовки',
      decision: 'full_answer',
      draftReply: 'Здравствуйте, Иван! Вернуть товар можно в течение 14 дней.\n\nСлужба поддержки',
      confidence: null,
      language: null,
      usedArticleIds: [],
      missingDetails: [],
      escalationReason: null,
    });
  });
});
