import { type EscalationNotice, escapeHtml, renderEscalationNotice, TELEGRAM_MAX_LENGTH } from '../../src/notifications/telegram-message.js';
import { parseTelegramHtml } from '../peers/telegram.peer.js';

const HOSTILE = '<script>alert(1)</script> a < b & c "quotes" &amp; &lt;b&gt; >';

function notice(overrides: Partial<EscalationNotice> = {}): EscalationNotice {
  return {
    ticketNumber: 1234,
    customerName: 'Иван Петров',
    customerEmail: 'ivan.petrov@example.ru',
    subject: 'Двойное списание',
    summary: 'Клиент сообщает о двойном списании за заказ 12345',
    reason: 'the AI asked for a human: спор об оплате',
    draftReply: 'Здравствуйте! Мы проверим платёж и вернёмся с ответом.',
    ...overrides,
  };
}

/** What Telegram shows for the HTML: the peer's parser (the same rules as the real server). */
function visible(html: string): string {
  const parsed = parseTelegramHtml(html);
  if (!parsed.ok) throw new Error(`Telegram would refuse the HTML: ${parsed.error}`);
  return parsed.text;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The value shown on the `label:` line of the plain text (single-line parts). */
function lineValue(text: string, label: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${label}: `));
  if (line === undefined) throw new Error(`no line ${label}`);
  return line.slice(label.length + 2);
}

/** The drafted reply block: everything after the `Черновик ответа:` line. */
function draftBlock(text: string): string {
  const marker = '\nЧерновик ответа:\n';
  const at = text.indexOf(marker);
  if (at < 0) throw new Error('no draft block');
  return text.slice(at + marker.length);
}

describe('escapeHtml', () => {
  it('escapes exactly the characters Telegram HTML reserves', () => {
    expect(escapeHtml(`<a href="x">&amp;</a> 'ok'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt; \'ok\'');
    expect(visible(escapeHtml(HOSTILE))).toBe(HOSTILE);
  });
});

describe('renderEscalationNotice', () => {
  it('holds the ticket number, customer, subject, summary, reason and draft', () => {
    const rendered = renderEscalationNotice(notice());
    const text = visible(rendered.html);
    expect(text).toBe(rendered.text);
    expect(text).toContain('#1234');
    expect(text).toContain('Иван Петров <ivan.petrov@example.ru>');
    expect(text).toContain('Двойное списание');
    expect(text).toContain('Клиент сообщает о двойном списании за заказ 12345');
    expect(text).toContain('the AI asked for a human: спор об оплате');
    expect(text).toContain('Здравствуйте! Мы проверим платёж и вернёмся с ответом.');
  });

  it('without a name or a draft shows the address and no draft block', () => {
    const rendered = renderEscalationNotice(notice({ customerName: null, draftReply: null, summary: null, subject: '' }));
    expect(visible(rendered.html)).toBe(rendered.text);
    expect(rendered.text).toContain('ivan.petrov@example.ru');
    expect(rendered.text).not.toContain('<ivan.petrov@example.ru>');
    expect(rendered.text).not.toContain('Черновик');
    expect(renderEscalationNotice(notice({ draftReply: '  \n ' })).text).not.toContain('Черновик');
  });

  it('escapes every part: customer and AI text is shown literally, never as markup', () => {
    const rendered = renderEscalationNotice(
      notice({
        customerName: `Иван ${HOSTILE}`,
        customerEmail: 'ivan@example.ru',
        subject: `Тема ${HOSTILE}`,
        summary: `Суть ${HOSTILE}`,
        reason: `Причина ${HOSTILE}`,
        draftReply: `Черновик ${HOSTILE}</blockquote><b>`,
      }),
    );
    const text = visible(rendered.html);
    expect(text).toBe(rendered.text);
    for (const part of [`Иван ${HOSTILE} <ivan@example.ru>`, `Тема ${HOSTILE}`, `Суть ${HOSTILE}`, `Причина ${HOSTILE}`, `Черновик ${HOSTILE}</blockquote><b>`]) {
      expect(text).toContain(part);
    }
    expect(rendered.html).not.toContain('<script>');
    // Only our own tags are markup.
    const tags = rendered.html.match(/<\/?[a-z][^>]*>/g) ?? [];
    expect(new Set(tags)).toEqual(new Set(['<b>', '</b>', '<blockquote expandable>', '</blockquote>']));
  });

  it('a short notice is not shortened', () => {
    const rendered = renderEscalationNotice(notice());
    expect(rendered.text).not.toContain('…');
  });

  it('shortens the draft first, leaving the rest whole', () => {
    const base = renderEscalationNotice(notice({ draftReply: 'x' })).text.length - 1;
    const draft = 'Здравствуйте! '.repeat(Math.ceil((TELEGRAM_MAX_LENGTH - base + 300) / 14));
    const rendered = renderEscalationNotice(notice({ draftReply: draft }));
    const text = visible(rendered.html);
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
    expect(text.length).toBeGreaterThan(TELEGRAM_MAX_LENGTH - 100);
    expect(lineValue(text, 'Тема')).toBe('Двойное списание');
    expect(lineValue(text, 'Суть')).toBe('Клиент сообщает о двойном списании за заказ 12345');
    expect(lineValue(text, 'Почему оператору')).toBe('the AI asked for a human: спор об оплате');
    const shown = draftBlock(text);
    expect(shown.endsWith('…')).toBe(true);
    expect(draft.startsWith(shown.slice(0, -1))).toBe(true);
  });

  it('shortens the summary only once the draft is down to its minimum', () => {
    const rendered = renderEscalationNotice(notice({ summary: 'С'.repeat(6000), draftReply: 'Д'.repeat(6000) }));
    const text = visible(rendered.html);
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
    expect(draftBlock(text).length).toBeLessThanOrEqual(100);
    expect(lineValue(text, 'Суть').length).toBeGreaterThan(1000);
    expect(lineValue(text, 'Почему оператору')).toBe('the AI asked for a human: спор об оплате');
  });

  it('every part at its maximum still fits, keeping the number, the customer and the start of the reason', () => {
    const reason = `the AI asked for a human: ${'причина '.repeat(400)}`;
    const rendered = renderEscalationNotice(
      notice({
        ticketNumber: 987654321,
        customerName: 'И'.repeat(255),
        customerEmail: `${'a'.repeat(64)}@${'b'.repeat(180)}.example.ru`,
        subject: 'Т'.repeat(19_960),
        summary: 'С'.repeat(2000),
        reason,
        draftReply: 'Д'.repeat(20_000),
      }),
    );
    const text = visible(rendered.html);
    expect(text).toBe(rendered.text);
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
    expect(text).toContain('#987654321');
    expect(text).toContain('the AI asked for a human: причина');
    expect(lineValue(text, 'Клиент').length).toBeGreaterThan(0);
  });

  it('counts visible characters: text full of & and < fits although its HTML is several times longer', () => {
    const heavy = '&<>"'.repeat(3000);
    const rendered = renderEscalationNotice(notice({ subject: heavy, summary: heavy, reason: heavy, draftReply: heavy, customerName: '<&>'.repeat(80) }));
    const text = visible(rendered.html);
    expect(text).toBe(rendered.text);
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
    // Shortening used the room there was: the visible text is close to the limit, not cut by the escaped length.
    expect(text.length).toBeGreaterThan(TELEGRAM_MAX_LENGTH - 200);
    expect(rendered.html.length).toBeGreaterThan(TELEGRAM_MAX_LENGTH * 2);
  });

  it.each([
    ['emoji', '😀🎉👍🏽'],
    ['flags and joiners', '🇷🇺👨‍👩‍👧 '],
    ['entities', '&amp;&lt;'],
    ['a character that expands, at every cut position', 'ab&'],
    ['Cyrillic words', 'слово '],
  ])('never cuts a surrogate pair or an entity (%s)', (_name, unit) => {
    for (let extra = 0; extra < 6; extra++) {
      const value = 'x'.repeat(extra) + unit.repeat(Math.ceil(9000 / unit.length));
      const subject = Array.from(value).slice(0, 1500).join('');
      const rendered = renderEscalationNotice(notice({ summary: value, draftReply: value, subject }));
      expect(LONE_SURROGATE.test(value + subject)).toBe(false);
      const parsed = parseTelegramHtml(rendered.html);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.text).toBe(rendered.text);
      expect(parsed.text.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
      expect(LONE_SURROGATE.test(rendered.html)).toBe(false);
      expect(LONE_SURROGATE.test(rendered.text)).toBe(false);
    }
  });

  it('a draft of exactly the room left is not shortened, one character more is', () => {
    const base = renderEscalationNotice(notice({ draftReply: 'x' })).text.length - 1;
    const room = TELEGRAM_MAX_LENGTH - base;
    const exact = renderEscalationNotice(notice({ draftReply: 'д'.repeat(room) }));
    expect(exact.text.length).toBe(TELEGRAM_MAX_LENGTH);
    expect(exact.text).not.toContain('…');
    const over = renderEscalationNotice(notice({ draftReply: 'д'.repeat(room + 1) }));
    expect(over.text.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
    expect(over.text.endsWith('…')).toBe(true);
  });
});
