/** Prefixes mail clients put before a subject when replying (English, Russian, Outlook variants). */
const REPLY_PREFIX = /^\s*(re|ответ|на|aw|sv)(\[\d+\]|\(\d+\))?\s*:\s*/i;
/** References past this length are trimmed: some relays reject header blocks over 4 KB. */
const MAX_REFERENCES_LENGTH = 1500;

/**
 * `Re: <subject> [#<number>]`, without a second `Re:` when the customer's subject already has one,
 * and without a second ticket tag. The tag lets a reply from any client thread back to the ticket.
 */
export function replySubject(subject: string, ticketNumber: number): string {
  const tag = `[#${ticketNumber}]`;
  let base = subject.replace(/\s+/g, ' ').trim();
  if (!base) base = 'Ваше обращение';
  // Long threads collect "Re: RE: Ответ:"; one prefix is enough.
  while (REPLY_PREFIX.test(base)) base = base.replace(REPLY_PREFIX, '');
  if (!base) base = 'Ваше обращение';
  if (!base.includes(tag)) base = `${base} ${tag}`;
  return `Re: ${base}`;
}

/**
 * References for a reply (RFC 5322 §3.6.4): the parent's References followed by the parent's
 * Message-ID; a parent without References but with an In-Reply-To contributes that instead. When
 * too long, the thread's first id and the parent are always kept (clients thread on them), then as
 * many of the latest ids between them as fit, in order.
 */
export function replyReferences(parentReferences: readonly string[], parentMessageId: string | null, parentInReplyTo: string | null = null): string[] {
  const ancestors = parentReferences.length > 0 ? parentReferences : parentInReplyTo ? [parentInReplyTo] : [];
  const ids = [...new Set([...ancestors, ...(parentMessageId ? [parentMessageId] : [])])];
  const length = (list: string[]) => list.reduce((sum, id) => sum + id.length + 3, 0);
  if (length(ids) <= MAX_REFERENCES_LENGTH || ids.length === 0) return ids;
  const parent = ids[ids.length - 1];
  // The root and the parent stay even when long: they are what clients thread on.
  const root = ids.length > 1 ? ids[0] : null;
  const middle: string[] = [];
  for (let i = ids.length - 2; i > (root ? 0 : -1); i--) {
    if (length([...(root ? [root] : []), ids[i], ...middle, parent]) > MAX_REFERENCES_LENGTH) break;
    middle.unshift(ids[i]);
  }
  return [...(root ? [root] : []), ...middle, parent];
}
