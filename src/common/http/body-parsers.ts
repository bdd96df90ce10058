import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ErrorCode } from '../errors.js';
import { requestIdOf } from '../logging/request-logging.js';
import { errorBody } from './http-exception.filter.js';

/** The raw bytes of the request body, kept for signature checks (the webhook HMAC). */
export interface RawBodyRequest extends Request {
  rawBody?: Buffer;
}

export const RFC822_TYPES = ['message/rfc822'];
const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Which parser a Content-Type header selects, read from the header itself: Express's req.is()
 * answers null for a request without a body, which would make an empty POST look unsupported.
 */
export function bodyKindOf(contentType: string | undefined): 'json' | 'rfc822' | null {
  const type = (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
  if (RFC822_TYPES.includes(type)) return 'rfc822';
  if (type === 'application/json' || /^application\/[^/]+\+json$/.test(type)) return 'json';
  return null;
}

/**
 * JSON and raw RFC 822 bodies up to `limitBytes`. The raw bytes are kept on `req.rawBody` before
 * any parsing. Parser failures answer in the service's JSON error shape (413 too large, 400
 * malformed JSON, 415 unsupported charset) instead of Express's HTML page.
 */
export function bodyParsers(limitBytes: number): RequestHandler[] {
  const json = express.json({
    limit: limitBytes,
    type: JSON_TYPES,
    verify: (req, _res, buf) => {
      (req as RawBodyRequest).rawBody = buf;
    },
  });
  const raw = express.raw({ limit: limitBytes, type: RFC822_TYPES });
  return [guard(json), guard(raw)];
}

function guard(parser: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    parser(req, res, (error?: unknown) => {
      if (!error) {
        if (Buffer.isBuffer(req.body)) (req as RawBodyRequest).rawBody = req.body;
        next();
        return;
      }
      const { status, type } = error as { status?: number; type?: string };
      const requestId = requestIdOf(req);
      if (status === 413 || type === 'entity.too.large') {
        res.status(413).json({ ...errorBody(413, ErrorCode.PayloadTooLarge, 'Request body is larger than the limit'), requestId });
      } else if (status === 415 || type === 'charset.unsupported' || type === 'encoding.unsupported') {
        res.status(415).json({ ...errorBody(415, ErrorCode.UnsupportedMediaType, 'Unsupported body charset or encoding'), requestId });
      } else {
        const detail = error instanceof Error ? error.message : 'unreadable body';
        res.status(400).json({
          ...errorBody(400, ErrorCode.MalformedBody, `Malformed request body: ${detail}`, [{ field: 'body', message: `is not valid JSON (${detail})` }]),
          requestId,
        });
      }
    });
  };
}
