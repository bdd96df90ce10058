import { createHash } from 'node:crypto';

const MAX_MESSAGE_ID_LENGTH = 998;

/**
 * The comparable form of a Message-ID: angle brackets and whitespace removed, the domain part
 * lower-cased (the local part is case-sensitive). `<AbC@Mail.Example.COM>` → `AbC@mail.example.com`.
 * Returns null for an empty value.
 */
export function normalizeMessageId(value: string | null | undefined): string | null {
  if (!value) return null;
  let id = value.trim();
  const bracketed = /<([^<>]*)>/.exec(id);
  if (bracketed) id = bracketed[1];
  id = id.replace(/\s+/g, '');
  if (!id) return null;
  const at = id.lastIndexOf('@');
  if (at > 0) id = `${id.slice(0, at)}@${id.slice(at + 1).toLowerCase()}`;
  return id.slice(0, MAX_MESSAGE_ID_LENGTH);
}

/** A References / In-Reply-To header (or an array of them) as a list of normalised ids, in order, without repeats. */
export function parseMessageIdList(value: string | readonly string[] | null | undefined): string[] {
  if (!value) return [];
  const raw = Array.isArray(value) ? value.join(' ') : String(value);
  const ids: string[] = [];
  const bracketed = raw.match(/<[^<>]+>/g);
  const parts = bracketed ?? raw.split(/[\s,]+/);
  for (const part of parts) {
    const id = normalizeMessageId(part);
    if (id && !ids.includes(id)) ids.push(id);
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
  return `${hash.slice(0, 40)}@generated.ai-support.invalid`;
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
