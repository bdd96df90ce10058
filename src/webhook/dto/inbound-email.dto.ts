import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { IsMailbox } from '../../common/validators.js';
import type { FieldError } from '../../common/errors.js';

const MAX_HEADER_LENGTH = 998 * 20;
const MAX_LIST = 500;

function IsStringOrStringArray(maxItems = MAX_LIST) {
  return ValidateBy({
    name: 'isStringOrStringArray',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' ||
        (Array.isArray(value) && value.length <= maxItems && value.every((item) => typeof item === 'string')),
      defaultMessage: () => `must be a string or an array of at most ${maxItems} strings`,
    },
  });
}

function IsStringRecord() {
  return ValidateBy({
    name: 'isStringRecord',
    validator: {
      validate: (value: unknown) =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length <= MAX_LIST &&
        Object.values(value).every((item) => typeof item === 'string' && item.length <= MAX_HEADER_LENGTH),
      defaultMessage: () => 'must be an object whose values are strings (header name → value)',
    },
  });
}

// Rules run bottom-up and only the first to fail is reported (common/validation.ts): each
// property writes its type check last, so a value of the wrong type is told so.
export class AttachmentDto {
  @ApiPropertyOptional({ example: 'чек.pdf' })
  @IsOptional()
  @MaxLength(1000)
  @IsString()
  filename?: string;

  @ApiPropertyOptional({ example: 'application/pdf' })
  @IsOptional()
  @MaxLength(255)
  @IsString()
  contentType?: string;

  @ApiPropertyOptional({ example: 48213, minimum: 0, description: 'Bytes' })
  @IsOptional()
  @Min(0, { message: 'must be a whole number of bytes' })
  @IsInt({ message: 'must be a whole number of bytes' })
  size?: number;
}

/** The JSON body of POST /api/webhook/email (SPEC.md). */
export class InboundEmailDto {
  @ApiProperty({ example: 'Иван Петров <ivan.petrov@example.ru>', description: '`Name <addr>` or `addr`' })
  @MaxLength(998)
  @IsMailbox()
  @IsString()
  from: string;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], example: 'support@shop.example' })
  @IsOptional()
  @IsStringOrStringArray()
  to?: string | string[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  @IsOptional()
  @IsStringOrStringArray()
  cc?: string | string[];

  @ApiPropertyOptional({ example: 'ivan.personal@example.ru', description: 'Replies go here when present' })
  @IsOptional()
  @MaxLength(998)
  @IsMailbox()
  @IsString()
  replyTo?: string;

  @ApiPropertyOptional({ example: 'Возврат заказа 12345' })
  @IsOptional()
  @MaxLength(MAX_HEADER_LENGTH)
  @IsString()
  subject?: string;

  @ApiPropertyOptional({
    example: 'Здравствуйте! Кроссовки из заказа 12345 не подошли по размеру. Как их вернуть?',
    description: 'Plain-text body; `text` or `html` is required',
  })
  @IsOptional()
  @IsString()
  text?: string;

  @ApiPropertyOptional({ example: '<p>Здравствуйте! Кроссовки не подошли…</p>', description: 'Reduced to text for analysis' })
  @IsOptional()
  @IsString()
  html?: string;

  @ApiPropertyOptional({ example: '<CAF3x9=abc123@mail.gmail.com>', description: 'The de-duplication key; expected' })
  @IsOptional()
  @MaxLength(998)
  @IsString()
  messageId?: string;

  @ApiPropertyOptional({ example: '<ais-5b0c3a5e-1f7e-4c55-9a61-0f1f9f7d2a10@shop.example>' })
  @IsOptional()
  @MaxLength(998)
  @IsString()
  inReplyTo?: string;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  @IsOptional()
  @IsStringOrStringArray()
  references?: string | string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'Auto-Submitted': 'no' },
    description: 'Original headers, e.g. Auto-Submitted, Precedence, List-Id (used by the loop guard)',
  })
  @IsOptional()
  @IsStringRecord()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ example: '2026-11-26T09:15:00Z', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO-8601 date-time' })
  receivedAt?: string;

  @ApiPropertyOptional({ type: [AttachmentDto], description: 'Metadata only; contents are never sent' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => AttachmentDto)
  attachments?: AttachmentDto[];

  /** Rules across fields, which decorators cannot express. */
  crossFieldErrors(): FieldError[] {
    // A text or html of the wrong type already has its own error.
    if ((this.text !== undefined && typeof this.text !== 'string') || (this.html !== undefined && typeof this.html !== 'string')) return [];
    const hasText = typeof this.text === 'string' && this.text.trim() !== '';
    const hasHtml = typeof this.html === 'string' && this.html.trim() !== '';
    return hasText || hasHtml ? [] : [{ field: 'text', message: 'text or html is required (at least one with content)' }];
  }
}
