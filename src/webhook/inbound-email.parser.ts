import type { AddressObject, ParsedMail } from 'mailparser';
import { type EmailAddress, formatEmailAddress, parseEmailAddress } from '../common/email-address.js';
import { AppError, type FieldError } from '../common/errors.js';
import { withoutNul } from '../common/without-nul.js';
import { cleanMessageId, deterministicMessageId, normalizeMessageId, parseMessageIdList } from '../common/message-id.js';
import type { AttachmentMeta } from '../tickets/entities/message.entity.js';
import type { InboundEmailDto } from './dto/inbound-email.dto.js';
import type { InboundEmail } from './inbound-email.js';

/** The JSON body (already validated against InboundEmailDto) as an InboundEmail. */
export function inboundEmailFromJson(dto: InboundEmailDto, now: Date): InboundEmail {
  const headers = lowerCaseKeys(dto.headers ?? {});
  const from = parseEmailAddress(dto.from)!;
  const date = dto.receivedAt ?? headers['date'] ?? null;
  return finish({
    from,
    to: asList(dto.to ?? headers['to']),
    cc: asList(dto.cc ?? headers['cc']),
    replyTo: dto.replyTo ? parseEmailAddress(dto.replyTo) : null,
    subject: dto.subject ?? headers['subject'] ?? '',
    text: dto.text ?? null,
    html: dto.html ?? null,
    rawMessageId: dto.messageId ?? headers['message-id'] ?? null,
    inReplyTo: cleanMessageId(dto.inReplyTo ?? headers['in-reply-to']),
    references: parseMessageIdList(dto.references ?? headers['references']),
    headers,
    date,
    receivedAt: dto.receivedAt ? new Date(dto.receivedAt) : now,
    attachments: (dto.attachments ?? []).map((a) => ({
      filename: a.filename ?? null,
      contentType: a.contentType ?? null,
      size: a.size ?? null,
    })),
  });
}

/**
 * A raw RFC 822 message parsed with a real MIME parser: encoded-word headers, charsets, quoted-
 * printable/base64, multipart/alternative. Attachments are reduced to their metadata.
 */
export async function inboundEmailFromMime(raw: Buffer, now: Date): Promise<InboundEmail> {
  if (raw.length === 0) throw AppError.field('body', 'is empty; send the whole RFC 822 message');
  let parsed: ParsedMail;
  // Loaded on first use: most providers post JSON, and the parser weighs ~6 MB of memory.
  const { simpleParser } = await import('mailparser');
  try {
    // skipHtmlToText: an HTML-only message has no text part; we reduce HTML ourselves, as for JSON.
    parsed = await simpleParser(raw, { skipHtmlToText: true, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, keepCidLinks: true });
  } catch (error) {
    throw AppError.field('body', `is not a readable RFC 822 message (${error instanceof Error ? error.message : 'parse error'})`);
  }
  const headers = headerRecord(parsed);
  const errors: FieldError[] = [];
  const from = firstAddress(parsed.from);
  if (!from) errors.push({ field: 'from', message: 'must contain a valid e-mail address (the From header is missing or invalid)' });
  const text = parsed.text?.trim() ? parsed.text : null;
  const html = typeof parsed.html === 'string' && parsed.html.trim() ? parsed.html : null;
  if (!text && !html) errors.push({ field: 'text', message: 'text or html is required (the message has no readable body)' });
  if (errors.length) throw AppError.validation(errors);

  return finish({
    from: from!,
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    replyTo: firstAddress(parsed.replyTo),
    subject: parsed.subject ?? '',
    text,
    html,
    rawMessageId: parsed.messageId ?? null,
    inReplyTo: cleanMessageId(parsed.inReplyTo),
    references: parseMessageIdList(parsed.references ?? null),
    headers,
    date: headers['date'] ?? null,
    receivedAt: parsed.date && !Number.isNaN(parsed.date.getTime()) && parsed.date.getTime() <= now.getTime() + 86_400_000 ? parsed.date : now,
    attachments: parsed.attachments.map(
      (a): AttachmentMeta => ({ filename: a.filename ?? null, contentType: a.contentType ?? null, size: a.size ?? null }),
    ),
  });
}

interface Draft extends Omit<InboundEmail, 'messageId' | 'rfcMessageId' | 'messageIdGenerated'> {
  rawMessageId: string | null;
  date: string | null;
}

/** Stored names are limited (varchar 255): longer display names are cut, not refused. */
const MAX_NAME_LENGTH = 255;

function finish(draft: Draft): InboundEmail {
  const { rawMessageId, date, ...raw } = draft;
  const email = withoutNul(raw);
  email.from = { ...email.from, name: email.from.name?.slice(0, MAX_NAME_LENGTH) };
  if (email.replyTo) email.replyTo = { ...email.replyTo, name: email.replyTo.name?.slice(0, MAX_NAME_LENGTH) };
  const written = cleanMessageId(rawMessageId);
  const messageId =
    normalizeMessageId(written) ??
    deterministicMessageId({ from: email.from.address, subject: email.subject, date, body: email.text || email.html || '' });
  return { ...email, messageId, rfcMessageId: written ?? messageId, messageIdGenerated: written === null };
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.trim().toLowerCase();
    result[key] = result[key] === undefined ? value : `${result[key]}, ${value}`;
  }
  return result;
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : value.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
  return items.map((item) => item.trim()).filter(Boolean);
}

/** Raw header lines, unfolded, names lower-cased; repeated headers joined with ", ". */
function headerRecord(parsed: ParsedMail): Record<string, string> {
  const result: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const colon = line.indexOf(':');
    const value = line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    result[key] = result[key] === undefined ? value : `${result[key]}, ${value}`;
  }
  return result;
}

function addresses(value: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const result: EmailAddress[] = [];
  for (const object of objects) {
    for (const entry of object.value) {
      const members = entry.group ?? [entry];
      for (const member of members) {
        const parsed = member.address ? parseEmailAddress(member.address) : null;
        if (parsed) result.push({ address: parsed.address, name: member.name || undefined });
      }
    }
  }
  return result;
}

function firstAddress(value: AddressObject | AddressObject[] | undefined): EmailAddress | null {
  return addresses(value)[0] ?? null;
}

function addressList(value: AddressObject | AddressObject[] | undefined): string[] {
  return addresses(value).map(formatEmailAddress);
}
