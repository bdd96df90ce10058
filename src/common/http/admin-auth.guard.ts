import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { constantTimeEqual } from '../constant-time.js';
import { AppError, ErrorCode } from '../errors.js';

/**
 * `Authorization: Bearer <ADMIN_API_KEY>` on the tickets and knowledge-base APIs when the key is
 * configured. Without a key (development) the APIs are open; production refuses to start without one.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.admin.apiKey;
    if (!expected) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match && constantTimeEqual(match[1], expected)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="ai-support"');
    throw new AppError(
      HttpStatus.UNAUTHORIZED,
      ErrorCode.Unauthorized,
      match ? 'The bearer token is not valid' : 'Send Authorization: Bearer <ADMIN_API_KEY>',
    );
  }
}
