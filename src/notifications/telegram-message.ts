/** Telegram refuses a message whose text, after entity parsing, is longer than this. */
export const TELEGRAM_MAX_LENGTH = 4096;

export interface EscalationNotice {
  ticketNumber: number;
  customerName: string | null;
  customerEmail: string;
  subject: string;
  summary: string | null;
  reason: string;
  draftReply: string | null;
}

export interface RenderedNotice {
  /** For parse_mode HTML: every piece of customer or AI text escaped. */
  html: string;
  /** The same content without markup: the fallback when Telegram cannot parse the HTML. */
  text: string;
}

interface Part {
  label: string;
  value: string;
  /** Shortened before others when the message is too long (higher first). */
  shrinkPriority: number;
  minLength: number;
  block?: boolean;
}

const ELLIPSIS = '…';

/**
 * The escalation message for the operators' chat. Long parts (the draft first, then the summary,
 * the subject, the reason) are shortened until the whole message fits Telegram's 4096 characters.
 * Shortening happens on the plain text, before escaping, so a tag or an entity is never cut.
 */
export function renderEscalationNotice(notice: EscalationNotice): RenderedNotice {
  const customer = notice.customerName ? `${notice.customerName} <${notice.customerEmail}>` : notice.customerEmail;
  const parts: Part[] = [
    { label: 'Клиент', value: customer, shrinkPriority: 1, minLength: 60 },
    { label: 'Тема', value: notice.subject || '(без темы)', shrinkPriority: 3, minLength: 80 },
    { label: 'Суть', value: notice.summary ?? '—', shrinkPriority: 4, minLength: 200 },
    { label: 'Почему оператору', value: notice.reason, shrinkPriority: 2, minLength: 200 },
  ];
  if (notice.draftReply?.trim()) {
    parts.push({ label: 'Черновик ответа', value: notice.draftReply.trim(), shrinkPriority: 5, minLength: 100, block: true });
  }
  const title = `Тикет #${notice.ticketNumber} передан оператору`;

  fitParts(title, parts);
  return {
    html: [`🔔 <b>${escapeHtml(title)}</b>`, ...parts.map(htmlLine)].join('\n'),
    text: [`🔔 ${title}`, ...parts.map(textLine)].join('\n'),
  };
}

/** Escapes text for Telegram's HTML mode (only &lt; &gt; &amp; &quot; are known entities). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
}

function htmlLine(part: Part): string {
  return part.block
    ? `<b>${escapeHtml(part.label)}:</b>\n<blockquote expandable>${escapeHtml(part.value)}</blockquote>`
    : `<b>${escapeHtml(part.label)}:</b> ${escapeHtml(part.value)}`;
}

function textLine(part: Part): string {
  return part.block ? `${part.label}:\n${part.value}` : `${part.label}: ${part.value}`;
}

/**
 * The text after entity parsing, which is what the 4096 limit applies to, in UTF-16 code units:
 * never fewer than the characters Telegram counts (an emoji is one character and two units), so a
 * notice within this length is within Telegram's, at the price of shortening emoji-heavy text a bit more.
 */
function visibleLength(title: string, parts: Part[]): number {
  return [`🔔 ${title}`, ...parts.map(textLine)].join('\n').length;
}

function fitParts(title: string, parts: Part[]): void {
  let excess = visibleLength(title, parts) - TELEGRAM_MAX_LENGTH;
  const order = [...parts].sort((a, b) => b.shrinkPriority - a.shrinkPriority);
  for (const part of order) {
    if (excess <= 0) return;
    const room = part.value.length - part.minLength;
    if (room <= 0) continue;
    const cut = Math.min(room, excess + ELLIPSIS.length);
    part.value = shorten(part.value, part.value.length - cut);
    excess = visibleLength(title, parts) - TELEGRAM_MAX_LENGTH;
  }
  // Still too long (only possible with absurd minimums): cut everything to its minimum.
  for (const part of order) {
    if (visibleLength(title, parts) <= TELEGRAM_MAX_LENGTH) return;
    part.value = shorten(part.value, Math.min(part.value.length, part.minLength));
  }
}

/** At most `max` characters including the ellipsis, preferably at a word boundary, never splitting a surrogate pair. */
function shorten(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = Math.max(0, max - ELLIPSIS.length);
  const space = value.lastIndexOf(' ', end);
  if (space > end - 40 && space > 0) end = space;
  if (end > 0 && /[\uD800-\uDBFF]/.test(value[end - 1])) end--;
  return value.slice(0, end).trimEnd() + ELLIPSIS;
}
