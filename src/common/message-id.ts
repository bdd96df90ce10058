import { createHash } from 'node:crypto';

const MAX_MESSAGE_ID_LENGTH = 998;

/**
 * A Message-ID as written, without angle brackets and whitespace: `<AbC@Mail.Example.COM>` →
 * `AbC@Mail.Example.COM`. Replies repeat this form exactly (some clients thread case-sensitively).
 * Returns null for an empty value.
 */
export function cleanMessageId(value: string | null | undefined): string | null {
  if (!value) return null;
  let id = value.trim();
  const bracketed = /<([^<>]*)>/.exec(id);
  if (bracketed) id = bracketed[1];
  id = id.replace(/\s+/g, '');
  return id ? id.slice(0, MAX_MESSAGE_ID_LENGTH) : null;
}

/**
 * The comparable form of a Message-ID, the de-duplication and threading key: cleaned, with the
 * domain part lower-cased (domains are case-insensitive; the local part is not).
 * `<AbC@Mail.Example.COM>` → `AbC@mail.example.com`.
 */
export function normalizeMessageId(value: string | null | undefined): string | null {
  const id = cleanMessageId(value);
  if (!id) return null;
  const at = id.lastIndexOf('@');
  return at > 0 ? `${id.slice(0, at)}@${id.slice(at + 1).toLowerCase()}` : id;
}

/**
 * A References / In-Reply-To header (or an array of them) as a list of ids as written, in order,
 * without repeats (compared in their normalised form).
 */
export function parseMessageIdList(value: string | readonly string[] | null | undefined): string[] {
  if (!value) return [];
  const raw = Array.isArray(value) ? value.join(' ') : String(value);
  const ids: string[] = [];
  const seen = new Set<string>();
  const parts = raw.match(/<[^<>]+>/g) ?? raw.split(/[\s,]+/);
  for (const part of parts) {
    const id = cleanMessageId(part);
    const key = normalizeMessageId(id);
    if (id && key && !seen.has(key)) {
      seen.add(key);
      ids.push(id);
    }
  }
  return ids;
}

/**
 * A stable Message-ID for mail that arrived without one, from what identifies it: the same
 * e-mail retried by a provider gets the same id, so it is still taken once.
 */
export function deterministicMessageId(parts: { from: string; subject: string; date: string | null; body: string }): string {
  const hash = createHash('sha256')
    .update([parts.from.toLowerCase(), parts.subject, parts.date ?? '', parts.body].join('\u0000'))
    .digest('hex');
  return `${hash.slice(0, 40)}@${GENERATED_DOMAIN}`;
}

const GENERATED_DOMAIN = 'generated.ai-support.invalid';

/** True for an id `deterministicMessageId` made: no mail client ever saw it. */
export function isGeneratedMessageId(id: string): boolean {
  return id.endsWith(`@${GENERATED_DOMAIN}`);
}

/** `<id>` for headers. */
export function bracketMessageId(id: string): string {
  return `<${id}>`;
}

const OWN_PREFIX = 'ais-';

/** A Message-ID for mail we send: on MAIL_FROM's domain, recognisable as ours when it comes back. */
export function ownMessageId(messageUuid: string, domain: string): string {
  return `${OWN_PREFIX}${messageUuid}@${domain.toLowerCase()}`;
}

/** True for a (normalised) Message-ID that we minted. */
export function isOwnMessageId(id: string, domain: string): boolean {
  const at = id.lastIndexOf('@');
  return at > 0 && id.startsWith(OWN_PREFIX) && id.slice(at + 1) === domain.toLowerCase();
}
