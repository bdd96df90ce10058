import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { AppError, type ErrorBody, ErrorCode } from '../errors.js';
import { requestIdOf } from '../logging/request-logging.js';

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  404: ErrorCode.NotFound,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
  503: ErrorCode.ServiceUnavailable,
};

/**
 * Every error leaves as the same JSON shape (ErrorBody), naming the offending field where there is
 * one. Terminus health reports pass through untouched: Kubernetes and dashboards read that shape.
 * Unexpected errors are logged with their stack and answered with a generic 500, never the cause.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    if (response.headersSent) return;

    if (exception instanceof HttpException && isTerminusReport(exception.getResponse())) {
      response.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    const body = this.toBody(exception, request);
    body.requestId = requestIdOf(request);
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown, request: Request): ErrorBody {
    if (exception instanceof AppError) {
      return errorBody(exception.status, exception.code, exception.message, exception.errors);
    }
    if (exception instanceof ThrottlerException) {
      return errorBody(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.RateLimited, 'Too many requests; retry later');
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      const message =
        typeof payload === 'string'
          ? payload
          : Array.isArray((payload as { message?: unknown }).message)
            ? ((payload as { message: string[] }).message).join('; ')
            : String((payload as { message?: unknown }).message ?? exception.message);
      return errorBody(status, CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed), message);
    }
    this.logger.error({
      msg: 'unhandled error',
      method: request.method,
      path: request.path,
      err: exception instanceof Error ? { name: exception.name, message: exception.message, stack: exception.stack } : String(exception),
    });
    return errorBody(HttpStatus.INTERNAL_SERVER_ERROR, ErrorCode.Internal, 'Internal server error');
  }
}

export function errorBody(statusCode: number, code: ErrorCode, message: string, errors?: ErrorBody['errors']): ErrorBody {
  const body: ErrorBody = { statusCode, error: reasonPhrase(statusCode), code, message };
  if (errors?.length) body.errors = errors;
  return body;
}

function reasonPhrase(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

function isTerminusReport(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && 'status' in payload && 'details' in payload;
}
