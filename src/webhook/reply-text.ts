/**
 * Reduce an inbound support e-mail to what the customer newly wrote.
 *
 * Pure functions, no I/O. The LLM must read only the customer's new words: quoted history (our own
 * previous answers, forwarded threads), reply headers and signatures are noise at best and, at worst,
 * make the model answer a question the customer did not ask this time.
 *
 * Two layers:
 * - {@link htmlToPlainText} converts an HTML body to readable text and can first drop the quote
 *   containers that mail clients mark up recognisably (Gmail, Outlook, Apple Mail, Yahoo).
 * - {@link stripQuotedReply} works on plain text: it cuts at the first line that starts the quoted
 *   history (attribution line, "Original message" separator, Outlook header block), drops ">" quoted
 *   lines, the "-- " signature and known mobile footers.
 *
 * {@link extractCleanText} combines both and is what callers should use.
 */
import { compile, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';

// ---------------------------------------------------------------------------------------------
// HTML → text
// ---------------------------------------------------------------------------------------------

export interface HtmlToPlainTextOptions {
  /**
   * Remove quote containers before conversion: Gmail's `div.gmail_quote`, Apple Mail / Thunderbird
   * `blockquote[type=cite]`, Yahoo's `.yahoo_quoted`, and Outlook's reply header (`div#appendonsend`,
   * `div#divRplyFwdMsg`, the desktop border-top header block) together with everything after it.
   * Default `false`: the full text, quotes rendered as "> " lines.
   */
  stripQuotes?: boolean;
}

/** The part of an htmlparser2 node the typings of html-to-text leave out. */
interface SiblingNode {
  type: string;
  name?: string;
  prev?: SiblingNode | null;
}

/**
 * Table cell: cells of one row are joined with " | ", each row (`tr` is a block) on its own line.
 * This keeps small data tables ("Order | Status") readable and degrades gracefully for the layout
 * tables of newsletters and Outlook signatures (one cell per row → plain lines), unlike
 * html-to-text's grid `dataTable` format, which pads and wraps nested layout tables badly.
 */
const formatTableCell: FormatCallback = (elem, walk, builder) => {
  let previous = (elem as SiblingNode).prev;
  while (previous && previous.type !== 'tag') {
    previous = previous.prev;
  }
  if (previous && (previous.name === 'td' || previous.name === 'th')) {
    builder.addLiteral(' | ');
  }
  walk(elem.children, builder);
};

const BASE_HTML_OPTIONS: HtmlToTextOptions = {
  // The LLM reads logical lines; hard wrapping would only split sentences.
  wordwrap: false,
  // The converter recurses per nesting level (5,000 nested <div>s overflowed the stack); bodies
  // nested deeper than MAX_NESTING never reach it, and this is the second line of defence.
  limits: { maxDepth: 2000 },
  formatters: { tableCell: formatTableCell },
  selectors: [
    // Links: "text (url)", and only the text when it already is the URL (mailto: is stripped by the
    // library, so "ivan@example.ru" linked to itself stays as is). URLs are kept rather than dropped
    // because customers refer to them ("this payment link gives an error", "the page … is empty"),
    // and the model cannot see the link otherwise; the cost is a few tracking URLs in footers.
    {
      selector: 'a',
      options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['(', ')'], noAnchorUrl: true },
    },
    // Images are logos, tracking pixels and inline attachments (cid:): nothing to read.
    { selector: 'img', format: 'skip' },
    // Non-content elements. <head> matters for fragments without <body>, where the whole document is used.
    { selector: 'head', format: 'skip' },
    { selector: 'title', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'template', format: 'skip' },
    // Headings as typed, not SHOUTED.
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({
      selector,
      options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 2 },
    })),
    { selector: 'ul', options: { itemPrefix: '- ' } },
    // Outlook desktop (Word engine) writes every line as <p class=MsoNormal> and blank lines as
    // empty paragraphs, so its paragraphs are lines, not blocks separated by a blank line.
    { selector: 'p[class^=Mso]', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'table', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'tableCell' },
    { selector: 'th', format: 'tableCell' },
  ],
};

/** Quote containers removed (skipped whole) when `stripQuotes` is on. */
const QUOTE_CONTAINER_SELECTORS: string[] = [
  // Gmail (web, Android, iOS): attribution + quoted history; newer Gmail adds gmail_quote_container.
  'div.gmail_quote',
  'div.gmail_quote_container',
  // Apple Mail, iOS Mail, Thunderbird: the quoted message.
  'blockquote[type=cite]',
  // Thunderbird: the "On … wrote:" line above its blockquote.
  'div.moz-cite-prefix',
  // Yahoo Mail.
  '.yahoo_quoted',
];

/**
 * Markers after which the whole rest of an HTML body is history. Outlook does not wrap the quoted
 * message in a container: the header block comes first and the old message follows as siblings,
 * so the HTML is cut at the earliest marker (htmlparser2 closes the tags left open).
 *
 * Each marker is an opening <div> with a telling attribute. The tags are found first with a
 * pattern whose attribute list stops at the next "<" or ">", and only then tested: a single
 * pattern with `[^>]*` before the attribute took time quadratic in the length of a body of
 * unclosed "<div " (11 s for 160 KB, the event loop blocked throughout).
 */
const DIV_TAG = /<div\b[^<>]*>/gi;
const HTML_HISTORY_DIVS: RegExp[] = [
  // Outlook on the web / new Outlook: empty marker div placed right before the reply header.
  /\bid\s*=\s*["']?appendonsend\b/i,
  // Outlook on the web / mobile: "From/Sent/To/Subject" header div, usually after an <hr>.
  /\bid\s*=\s*["']?divRplyFwdMsg\b/i,
  // Outlook desktop (Windows/Mac): header block drawn with a thin top border;
  // #E1E1E1 since Outlook 2013, #B5C4DF in Outlook 2007/2010.
  /\bstyle\s*=\s*["'][^"'<>]*border:\s*none;\s*border-top:\s*solid\s+#(?:E1E1E1|B5C4DF)\s+1(?:\.0)?pt/i,
];
/** The <hr> Outlook draws right above its reply header goes with it. */
const HR_BEFORE = /<hr\b[^<>]*>\s*$/i;

const convertFull = compile(BASE_HTML_OPTIONS);
const convertWithoutQuotes = compile({
  ...BASE_HTML_OPTIONS,
  selectors: [
    ...(BASE_HTML_OPTIONS.selectors ?? []),
    ...QUOTE_CONTAINER_SELECTORS.map((selector) => ({ selector, format: 'skip' })),
  ],
});

/** HTML read for the analysis text (the stored HTML stays whole): no letter is longer. */
const MAX_HTML_FOR_TEXT = 512 * 1024;
/** Real mail nests a few dozen elements deep; beyond this the body is treated as hostile. */
const MAX_NESTING = 1000;
/**
 * An element's tag. The lookahead ends the name where it ends (no backtracking into it), and the
 * attribute list stops at the next "<" or ">": linear in the input, whatever it holds.
 */
const ANY_TAG = /<(\/?)[a-z][a-z0-9-]*(?![a-z0-9-])[^<>]*>/gi;
/** Void elements: they never hold others. Everything else counts, even those a sibling closes implicitly: over-counting only sends a body to the plain fallback. */
const VOID_ELEMENTS = /^<\/?(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)(?![a-z0-9-])/i;

function withoutMarkup(html: string): string {
  return normaliseWhitespace(html.replace(/<[^<>]*>?/g, ' ').replace(/[\u00a0\u202f]/g, ' '));
}

/** How deep the elements nest, counted in one linear pass; stops counting past `limit`. */
function nestingDepth(html: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  for (const [tag, closing] of html.matchAll(ANY_TAG)) {
    if (tag.endsWith('/>') || VOID_ELEMENTS.test(tag)) continue;
    if (closing) {
      depth = Math.max(0, depth - 1);
    } else if (++depth > deepest) {
      deepest = depth;
      if (deepest > limit) break;
    }
  }
  return deepest;
}

/** Drop everything from the first Outlook history marker on. */
function cutHtmlHistory(html: string): string {
  for (const match of html.matchAll(DIV_TAG)) {
    if (!HTML_HISTORY_DIVS.some((marker) => marker.test(match[0]))) continue;
    const before = html.slice(Math.max(0, match.index - 512), match.index);
    const hr = HR_BEFORE.exec(before);
    return html.slice(0, hr ? match.index - before.length + hr.index : match.index);
  }
  return html;
}

/**
 * Convert an HTML e-mail body to readable plain text: no word wrap, line breaks of <br>/<p>/<div>
 * kept, lists as "- item", table rows as "a | b", links as "text (url)", images, <head>, <style>
 * and <script> dropped, whitespace normalised. Copes with broken HTML (htmlparser2 is lenient) and
 * Outlook's conditional comments (parsed as comments and dropped).
 */
export function htmlToPlainText(html: string, options: HtmlToPlainTextOptions = {}): string {
  if (!html.trim()) {
    return '';
  }
  const input = html.length > MAX_HTML_FOR_TEXT ? html.slice(0, MAX_HTML_FOR_TEXT) : html;
  if (nestingDepth(input, MAX_NESTING) > MAX_NESTING) {
    // Not a letter but a parser bomb: the converter's time grows with depth × size (200,000
    // nested <div>s took 19 s). The words without the markup are enough to analyse.
    return withoutMarkup(input);
  }
  let text: string;
  try {
    text = options.stripQuotes ? convertWithoutQuotes(cutHtmlHistory(input)) : convertFull(input);
  } catch (error) {
    // A structure the depth count did not foresee still overflowed the converter's recursion.
    if (error instanceof RangeError) return withoutMarkup(input);
    throw error;
  }
  // Outlook and Gmail pad with &nbsp;, which html-to-text does not treat as whitespace.
  return normaliseWhitespace(text.replace(/[\u00a0\u202f]/g, ' '));
}

// ---------------------------------------------------------------------------------------------
// Plain text: quoted history and signatures
// ---------------------------------------------------------------------------------------------

/** "10:15", "9:05" */
const TIME = String.raw`\d{1,2}:\d{2}`;
/** An address in angle brackets, tolerating a space left by joining a wrapped line: "< ivan@x.ru>". */
const ADDRESS = String.raw`<\s*[^<>\s]+@[^<>\s]+\s*>`;
const RU_WEEKDAY_SHORT = 'пн|вт|ср|чт|пт|сб|вс';
const RU_WEEKDAY_LONG = 'понедельник|вторник|среда|четверг|пятница|суббота|воскресенье';

/**
 * Where an attribution line can start. A line is tested together with the next one (Gmail's text
 * part hard-wraps long attributions) only if it starts like an attribution, so an ordinary sentence
 * is never glued to the attribution below it.
 */
const ATTRIBUTION_START = new RegExp(String.raw`^(?:On\s|\d|(?:${RU_WEEKDAY_SHORT}|${RU_WEEKDAY_LONG})[,\s])`, 'iu');

/** Lines that introduce quoted history ("X wrote:"), each tested against the whole line. */
const ATTRIBUTIONS: RegExp[] = [
  // Gmail, Apple Mail, Thunderbird, Outlook mobile (EN):
  //   "On Mon, 3 Nov 2025 at 10:15, Ivan Petrov <ivan@example.ru> wrote:"
  //   "On 3 Nov 2025, at 10:15, Ivan Petrov <ivan@example.ru> wrote:"
  // A time or a year is required so that "On Monday I wrote:" in a sentence does not match.
  new RegExp(String.raw`^On\s(?=.*(?:${TIME}|\b\d{4}\b)).{6,300}\swrote:$`, 'iu'),
  // Gmail (RU interface): "пн, 3 нояб. 2025 г. в 10:15, Иван Петров <ivan@example.ru>:"
  new RegExp(String.raw`^(?:${RU_WEEKDAY_SHORT}),\s+\d{1,2}\s+\S+\s+\d{4}\s*г\.?,?\s+в\s+${TIME},?\s.{0,200}${ADDRESS}:$`, 'iu'),
  // Apple Mail / iOS Mail (RU), older Gmail, Yandex, Thunderbird (RU):
  //   "3 ноября 2025 г., в 10:15, Иван <ivan@example.ru> написал(а):"
  //   "03.11.2025 10:15, Иван Петров пишет:"
  new RegExp(String.raw`^(?:(?:${RU_WEEKDAY_SHORT}),\s*)?\d{1,2}[.\s].{0,40}${TIME}.{0,200}\s(?:написал(?:\(а\)|а)?|пишет):$`, 'iu'),
  // Mail.ru: "Понедельник, 3 ноября 2025, 10:15 +03:00 от Иван Петров <ivan@mail.ru>:"
  new RegExp(String.raw`^(?:${RU_WEEKDAY_LONG}),\s+\d{1,2}\s+\S+\s+\d{4},?\s+${TIME}(?:\s*[+-]\d{2}:?\d{2})?\s+от\s.{1,200}:$`, 'iu'),
  // Yandex Mail (web, apps): "03.11.2025, 10:15, "Иван Петров" <ivan@yandex.ru>:"
  new RegExp(String.raw`^\d{1,2}\.\d{1,2}\.\d{2,4},?\s+${TIME},?\s.{0,200}${ADDRESS}:$`, 'iu'),
];

/** Separator lines that start forwarded/quoted history. */
const HISTORY_SEPARATORS: RegExp[] = [
  // Gmail "---------- Forwarded message ---------", Outlook "-----Original Message-----",
  // Outlook RU "-----Исходное сообщение-----", Yandex/Mail.ru "-------- Пересылаемое сообщение --------",
  // "—— Исходное сообщение ——", Thunderbird RU "-------- Перенаправленное сообщение --------".
  /^[-—–=_]{2,}\s*(?:original message|forwarded message|исходное сообщение|пересылаемое сообщение|перенаправленное сообщение|пересланное сообщение)\s*[-—–=_]*$/iu,
  // Apple Mail / iOS Mail forward.
  /^(?:Begin forwarded message|Начало переадресованного сообщения):$/iu,
];

/** Outlook reply header, first field. Gmail renders Outlook's bold labels as "*From:*". */
const OUTLOOK_HEADER_FROM = /^\*?(?:From|От кого|От)\s*:\*?\s/iu;
/** Outlook reply header, following fields (EN and RU interface). */
const OUTLOOK_HEADER_FIELD = /^\*?(?:Sent|Date|To|Cc|Subject|Отправлено|Дата|Кому|Копия|Тема)\s*:\*?(?:\s|$)/iu;
/** Outlook on the web / mobile draws a line of underscores above the header block. */
const OUTLOOK_RULE = /^_{10,}$/;

/** The standard signature delimiter "-- " (many clients and copy-paste drop the trailing space). */
const SIGNATURE_DELIMITER = /^--$/;

/** Footers added by mobile mail apps; each is a whole line and ends the new content. */
const MOBILE_FOOTERS: RegExp[] = [
  // iOS Mail / Android apps (EN): "Sent from my iPhone", "Sent from my Galaxy"
  /^Sent from my \S.{0,40}$/iu,
  // Windows Mail, Yahoo, Outlook apps (EN): "Sent from Mail for Windows", "Sent from Yahoo Mail for iPhone"
  /^Sent from (?:Mail for Windows|Yahoo Mail|Outlook)\b.{0,40}$/iu,
  // iOS Mail / Android apps (RU): "Отправлено с iPhone", "Отправлено с моего iPad", "Отправлено с устройства Galaxy"
  /^Отправлено с (?:моего )?(?:iPhone|iPad|Android|устройства|мобильного|Samsung|Galaxy|Huawei|Xiaomi)\b.{0,40}$/iu,
  // Mail.ru apps: "Отправлено из мобильной Почты Mail.ru"
  /^Отправлено из (?:мобильной )?Почты Mail(?:\.ru)?$/iu,
  // Yandex Mail apps: "Отправлено из приложения Яндекс Почта", "Отправлено из мобильной Яндекс.Почты"
  /^Отправлено из (?:приложения |мобильной )?Яндекс[ .]?Почт[аы]$/iu,
  // Outlook mobile: "Get Outlook for iOS<https://aka.ms/o0ukef>", "Получить Outlook для Android"
  /^(?:Get Outlook for|(?:Получить|Скачать|Загрузите) Outlook для) (?:iOS|Android)(?:\s*[<([]\S+[>)\]])?$/iu,
];

/** A line quoted by the mail client. */
const QUOTED_LINE = /^\s*>/;

/** A line that introduces a quoted block in any wording: "Иван писал(а):", "You wrote:". */
const ENDS_WITH_COLON = /:\s*$/;

/** The line as compared with the patterns: trimmed, with the no-break spaces Gmail puts in times. */
function forMatch(line: string | undefined): string {
  return (line ?? '').replace(/[\u00a0\u202f]/g, ' ').trim();
}

function isBlank(line: string | undefined): boolean {
  return forMatch(line) === '';
}

function nextNonBlankIndex(lines: string[], from: number): number {
  let index = from;
  while (index < lines.length && isBlank(lines[index])) {
    index++;
  }
  return index;
}

/** Number of lines (1 or 2) of a recognised attribution starting at `index`, or 0. */
function attributionSpan(lines: string[], index: number): number {
  const first = forMatch(lines[index]);
  if (!ATTRIBUTION_START.test(first)) {
    return 0;
  }
  if (ATTRIBUTIONS.some((pattern) => pattern.test(first))) {
    return 1;
  }
  const second = forMatch(lines[index + 1]);
  if (second && ATTRIBUTIONS.some((pattern) => pattern.test(`${first} ${second}`))) {
    return 2;
  }
  return 0;
}

/** An Outlook header block starts here: "From:" followed by at least two more header fields. */
function isOutlookHeaderAt(lines: string[], index: number): boolean {
  if (!OUTLOOK_HEADER_FROM.test(forMatch(lines[index]))) {
    return false;
  }
  const following = lines.slice(index + 1, index + 7).map(forMatch);
  return following.filter((line) => OUTLOOK_HEADER_FIELD.test(line)).length >= 2;
}

/** Everything from this line on is history or signature. */
function startsHistoryOrSignature(lines: string[], index: number): boolean {
  const line = forMatch(lines[index]);
  if (SIGNATURE_DELIMITER.test(line)) {
    return true;
  }
  if (MOBILE_FOOTERS.some((pattern) => pattern.test(line))) {
    return true;
  }
  if (HISTORY_SEPARATORS.some((pattern) => pattern.test(line))) {
    return true;
  }
  if (OUTLOOK_RULE.test(line)) {
    return isOutlookHeaderAt(lines, nextNonBlankIndex(lines, index + 1));
  }
  return isOutlookHeaderAt(lines, index);
}

/** Remove the line ending with ":" (and blank lines after it) that introduces a quoted block. */
function dropAttributionBeforeQuote(kept: string[]): void {
  let index = kept.length - 1;
  while (index >= 0 && isBlank(kept[index])) {
    index--;
  }
  if (index >= 0 && ENDS_WITH_COLON.test(kept[index]!)) {
    kept.length = index;
  }
}

/** \r\n and \r → \n, trailing whitespace off every line, 2+ blank lines → one, trimmed. */
function normaliseWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Return only the new content of a plain-text e-mail body.
 *
 * Rules, in order, line by line:
 * - lines starting with ">" are dropped, together with the line ending with ":" right before
 *   the quoted block (its attribution, in whatever wording);
 * - a recognised attribution ("On … wrote:", "пн, 3 нояб. 2025 г. в 10:15, … <…>:", Mail.ru's
 *   "… от Иван <…>:", …) directly followed by a ">" block is dropped with it; not followed by one
 *   (webmail/Outlook put the old message unquoted below), it ends the new content;
 * - the "-- " signature delimiter, a known mobile footer ("Отправлено с iPhone", "Get Outlook for
 *   iOS", …), an "Original message"/"Пересылаемое сообщение" separator, or an Outlook header block
 *   ("From:/Sent:/To:/Subject:", "От:/Отправлено:/Кому:/Тема:", with its "_____" line) ends it.
 * Closing phrases ("С уважением, Иван") are kept: predictable, and harmless to the LLM.
 *
 * Never returns an empty string for a non-blank input: if nothing would be left (a bare forward,
 * a reply written below the quote), the whole text is returned, whitespace-normalised.
 */
export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  // True while inside a quoted block (blank lines do not end it), so that its attribution is
  // looked for only once, at the start of the block.
  let inQuote = false;

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (QUOTED_LINE.test(line)) {
      if (!inQuote) {
        dropAttributionBeforeQuote(kept);
        inQuote = true;
      }
      continue;
    }
    if (isBlank(line)) {
      kept.push(line);
      continue;
    }
    if (startsHistoryOrSignature(lines, index)) {
      break;
    }
    const span = attributionSpan(lines, index);
    if (span > 0) {
      if (!QUOTED_LINE.test(lines[nextNonBlankIndex(lines, index + span)] ?? '')) {
        break;
      }
      index += span - 1;
      inQuote = true;
      continue;
    }
    inQuote = false;
    kept.push(line);
  }

  const result = normaliseWhitespace(kept.join('\n'));
  return result || normaliseWhitespace(text);
}

// ---------------------------------------------------------------------------------------------
// Combined
// ---------------------------------------------------------------------------------------------

/**
 * Text parts that only tell the reader to look at the HTML part. Checked on short text parts only;
 * a false positive is cheap: the HTML part of the same message is used instead.
 */
const HTML_ONLY_PLACEHOLDER =
  /html[- ]only|in html format|html version|does not support html|doesn't support html|view (?:it|this (?:e-?mail|message)) in (?:a|your) (?:web )?browser|формате html|html-верси|не поддерживает html|включите (?:отображение )?html/iu;

function isUsableTextPart(text: string): boolean {
  const trimmed = text.trim();
  if (!trimmed) {
    return false;
  }
  return !(trimmed.length < 300 && HTML_ONLY_PLACEHOLDER.test(trimmed));
}

/**
 * The customer's new words from an inbound message's body parts.
 *
 * The text/plain part is preferred when it has content: every major client (Gmail, Outlook, Apple
 * Mail, Yandex, Mail.ru) generates it from what the author typed, it carries the quoting in the
 * conventional, well-recognised forms ("On … wrote:", ">", "-----Original Message-----"), and it is
 * cheaper and more predictable to parse than HTML, where layout and styling can hide or duplicate
 * content. The HTML part is used only when the text part is missing, blank or an obvious placeholder
 * ("This is an HTML-only message"); it is then converted with its quote containers removed (or in
 * full if nothing else is left). Either way {@link stripQuotedReply} then removes the remaining
 * history and signature.
 */
export function extractCleanText(input: { text?: string | null; html?: string | null }): string {
  const text = input.text ?? '';
  const html = input.html ?? '';
  let body = text;
  if (!isUsableTextPart(text) && html.trim()) {
    body = htmlToPlainText(html, { stripQuotes: true }) || htmlToPlainText(html) || text;
  }
  return stripQuotedReply(body);
}
