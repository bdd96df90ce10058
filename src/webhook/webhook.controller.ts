import { Controller, HttpStatus, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Response } from 'express';
import { AppError, ErrorCode } from '../common/errors.js';
import { bodyKindOf, type RawBodyRequest, RFC822_TYPES } from '../common/http/body-parsers.js';
import { ErrorBodyDto } from '../common/http/error-body.dto.js';
import { validateDto } from '../common/validation.js';
import { AppConfig } from '../config/app-config.js';
import { TicketOutcomes } from '../orchestrator/ticket-outcomes.js';
import { TicketDetailDto } from '../tickets/dto/ticket.dto.js';
import { TicketsService } from '../tickets/tickets.service.js';
import { TicketStatus } from '../tickets/ticket-status.js';
import { InboundEmailDto } from './dto/inbound-email.dto.js';
import { WebhookAcceptedDto, WebhookDuplicateDto, WebhookQuery } from './dto/webhook-responses.dto.js';
import { EmailIngestionService } from './email-ingestion.service.js';
import type { InboundEmail } from './inbound-email.js';
import { inboundEmailFromJson, inboundEmailFromMime } from './inbound-email.parser.js';
import { WebhookAuthGuard } from './webhook-auth.guard.js';

@ApiTags('webhook')
@ApiSecurity('webhook-token')
@Controller('api/webhook')
export class WebhookController {
  constructor(
    private readonly config: AppConfig,
    private readonly ingestion: EmailIngestionService,
    private readonly outcomes: TicketOutcomes,
    private readonly tickets: TicketsService,
  ) {}

  @Post('email')
  // Credentials first: requests without the secret (cheap to refuse) must not spend the budget
  // of the provider that has it, which behind one proxy shares their address.
  @UseGuards(WebhookAuthGuard, ThrottlerGuard)
  @ApiOperation({
    summary: 'Take an inbound e-mail',
    description:
      'JSON (application/json) or the raw message (message/rfc822). Stored durably and analysed in the background. ' +
      'The Message-ID is the de-duplication key: a repeat answers 200 with `duplicate: true` and changes nothing. ' +
      'Automatic mail (auto-replies, bounces, lists) is stored as `ignored` and never answered. ' +
      'When WEBHOOK_SECRET is set, send `X-Webhook-Token: <secret>` or `X-Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.',
  })
  @ApiConsumes('application/json', ...RFC822_TYPES)
  @ApiExtraModels(InboundEmailDto)
  @ApiBody({ schema: { $ref: getSchemaPath(InboundEmailDto) } })
  @ApiAcceptedResponse({ type: WebhookAcceptedDto, description: 'Stored; analysed in the background' })
  @ApiOkResponse({
    description: 'A duplicate (`{ticketId, duplicate: true}`), or with `?wait=true` the whole decided ticket',
    schema: { oneOf: [{ $ref: getSchemaPath(WebhookDuplicateDto) }, { $ref: getSchemaPath(TicketDetailDto) }] },
  })
  @ApiExtraModels(WebhookDuplicateDto, TicketDetailDto)
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'Validation failed; each error names its field' })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto, description: 'WEBHOOK_SECRET is set and the token or signature is missing or wrong' })
  @ApiPayloadTooLargeResponse({ type: ErrorBodyDto, description: 'Body larger than WEBHOOK_BODY_LIMIT (2 MB by default)' })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorBodyDto, description: 'Neither application/json nor message/rfc822' })
  @ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: 'Rate limited (WEBHOOK_RATE_LIMIT); retry after Retry-After seconds' })
  async receive(
    @Req() request: RawBodyRequest,
    @Res({ passthrough: true }) response: Response,
    @Query() query: WebhookQuery,
  ): Promise<WebhookAcceptedDto | WebhookDuplicateDto | TicketDetailDto> {
    const email = await this.readEmail(request);
    const result = await this.ingestion.ingest(email);

    if (result.duplicate) {
      response.status(HttpStatus.OK);
      return { ticketId: result.ticketId, duplicate: true };
    }
    if (query.wait) {
      const decided = await this.outcomes.waitUntilDecided(result.ticketId, this.config.webhook.waitTimeoutMs);
      if (decided) {
        response.status(HttpStatus.OK);
        return this.tickets.detail(result.ticketId);
      }
    }
    response.status(HttpStatus.ACCEPTED);
    return {
      ticketId: result.ticketId,
      ticketNumber: result.ticketNumber,
      status: result.ignoredReason ? TicketStatus.Ignored : result.status,
      duplicate: false,
      followUp: result.followUp,
      ...(result.ignoredReason ? { ignoredReason: result.ignoredReason } : {}),
    };
  }

  private async readEmail(request: RawBodyRequest): Promise<InboundEmail> {
    const now = new Date();
    const kind = bodyKindOf(request.headers['content-type']);
    if (kind === 'rfc822') {
      // An empty body arrives undefined: the parser's own check answers it.
      return inboundEmailFromMime(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), now);
    }
    if (kind === 'json') {
      // Express leaves a body-less request's body undefined, and makes an empty one `{}`.
      if (request.body === undefined || request.headers['content-length'] === '0') {
        throw AppError.field('body', 'is empty; send the e-mail as a JSON object');
      }
      const dto = await validateDto(InboundEmailDto, request.body, (email) => email.crossFieldErrors());
      return inboundEmailFromJson(dto, now);
    }
    throw new AppError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      ErrorCode.UnsupportedMediaType,
      `Send application/json or message/rfc822 (got ${request.headers['content-type'] ?? 'no Content-Type'})`,
    );
  }
}
