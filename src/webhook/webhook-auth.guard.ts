import { createHmac } from 'node:crypto';
import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { constantTimeEqual } from '../common/constant-time.js';
import { AppError, ErrorCode } from '../common/errors.js';
import type { RawBodyRequest } from '../common/http/body-parsers.js';
import { AppConfig } from '../config/app-config.js';

/** Signatures older or newer than this are refused (replay protection). */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` — the value a sender puts in X-Webhook-Signature. */
export function signWebhookBody(secret: string, body: Buffer | string, timestamp = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * When WEBHOOK_SECRET is set, every call carries either `X-Webhook-Token: <secret>` or an HMAC
 * signature of the raw body (SPEC.md). Both are compared in constant time.
 */
@Injectable()
export class WebhookAuthGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const secret = this.config.webhook.secret;
    if (!secret) return true;
    const request = context.switchToHttp().getRequest<RawBodyRequest>();

    const token = request.headers['x-webhook-token'];
    if (typeof token === 'string' && token.length > 0) {
      if (constantTimeEqual(token, secret)) return true;
      throw unauthorized('X-Webhook-Token is not valid');
    }
    const signature = request.headers['x-webhook-signature'];
    if (typeof signature === 'string' && signature.length > 0) {
      this.verifySignature(signature, request.rawBody ?? Buffer.alloc(0), secret);
      return true;
    }
    throw unauthorized('Send X-Webhook-Token or X-Webhook-Signature');
  }

  private verifySignature(header: string, body: Buffer, secret: string): void {
    const parts = new Map<string, string[]>();
    for (const part of header.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const key = part.slice(0, eq).trim();
      parts.set(key, [...(parts.get(key) ?? []), part.slice(eq + 1).trim()]);
    }
    const timestamp = parts.get('t')?.[0];
    const signatures = parts.get('v1') ?? [];
    if (!timestamp || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) {
      throw unauthorized('X-Webhook-Signature must look like t=<unix seconds>,v1=<hex>');
    }
    const age = Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp));
    if (age > SIGNATURE_TOLERANCE_SECONDS) throw unauthorized('X-Webhook-Signature is outside the 5-minute window');
    const expected = signWebhookBody(secret, body, Number(timestamp)).split('v1=')[1];
    // Several v1 values are allowed, so a sender can rotate its secret without downtime.
    if (!signatures.some((candidate) => constantTimeEqual(candidate.toLowerCase(), expected))) {
      throw unauthorized('X-Webhook-Signature does not match the body');
    }
  }
}

function unauthorized(message: string): AppError {
  return new AppError(HttpStatus.UNAUTHORIZED, ErrorCode.Unauthorized, message);
}
