import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as PinoLogger } from 'pino';
import { pinoHttp } from 'pino-http';
import { requestContext } from './request-context.js';

const SAFE_REQUEST_ID = /^[\w.:@-]{1,128}$/;

/**
 * One log line per request (probes excepted), with a request id taken from X-Request-Id when the
 * caller sent a sane one and echoed back in the response. Headers are not logged at all: they
 * carry tokens and signatures.
 */
export function requestLogging(logger: PinoLogger) {
  const middleware = pinoHttp({
    logger,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    serializers: {
      req: (req: { method: string; url: string; remoteAddress?: string }) => ({
        method: req.method,
        path: req.url.split('?', 1)[0],
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
  });
  return (req: IncomingMessage, res: ServerResponse, next: () => void) =>
    middleware(req, res, () => requestContext.run({ requestId: String((req as { id?: unknown }).id) }, next));
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?', 1)[0];
}
