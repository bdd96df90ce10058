import type { OpenAPIObject } from '@nestjs/swagger';
import { RFC822_TYPES } from '../common/http/body-parsers.js';

export const RAW_MIME_EXAMPLE = [
  'From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan.petrov@example.ru>',
  'To: support@shop.example',
  'Subject: =?UTF-8?B?0JLQvtC30LLRgNCw0YIg0LfQsNC60LDQt9Cw?=',
  'Message-ID: <CAF3x9=raw123@mail.example.ru>',
  'Date: Thu, 26 Nov 2026 09:15:00 +0300',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=UTF-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Здравствуйте! Кроссовки не подошли по размеру. Как вернуть?',
].join('\r\n');

/**
 * @nestjs/swagger gives every content type of a route the same schema; the raw-MIME variant of
 * the webhook body is a binary message, so its entry is rewritten here.
 */
export function describeRawMimeBody(document: OpenAPIObject): void {
  const content = (document.paths['/api/webhook/email']?.post?.requestBody as { content?: Record<string, unknown> } | undefined)?.content;
  if (!content) return;
  for (const type of RFC822_TYPES) {
    content[type] = { schema: { type: 'string', format: 'binary', description: 'The whole RFC 822 message' }, example: RAW_MIME_EXAMPLE };
  }
}
