import { HttpStatus } from '@nestjs/common';

/** Stable error codes: clients match on these, never on message text. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedBody = 'MALFORMED_BODY',
  Unauthorized = 'UNAUTHORIZED',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  RateLimited = 'RATE_LIMITED',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  Internal = 'INTERNAL_ERROR',
}

export interface FieldError {
  /** Dotted path of the offending field, e.g. `from` or `attachments.0.size`; `body` for the whole body. */
  field: string;
  message: string;
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  code: ErrorCode;
  message: string;
  errors?: FieldError[];
  requestId?: string;
}

/** An error meant for the client: its status, code and message are sent as they are. */
export class AppError extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }

  static validation(errors: FieldError[]): AppError {
    const message = errors.map((e) => (e.field === 'body' ? e.message : `${e.field}: ${e.message}`)).join('; ');
    return new AppError(HttpStatus.BAD_REQUEST, ErrorCode.ValidationFailed, message, errors);
  }

  static field(field: string, message: string): AppError {
    return AppError.validation([{ field, message }]);
  }
}
