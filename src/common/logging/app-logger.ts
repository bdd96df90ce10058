import { Injectable, type LoggerService } from '@nestjs/common';
import pino, { type Logger as PinoLogger } from 'pino';
import { AppConfig } from '../../config/app-config.js';

/**
 * Fields removed from log lines as a second line of defence: nothing logs secrets on purpose
 * (request headers are not logged; errors carry provider messages only). Exact paths only —
 * wildcard paths made pino inspect every object of every line and cost a tenth of throughput.
 */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'token',
  'accessToken',
  'access_token',
  'authKey',
  'apiKey',
  'secret',
  'botToken',
  'smtpUrl',
  'err.config.headers.Authorization',
];

export function createPino(level: string): PinoLogger {
  return pino({
    level,
    base: { service: 'ai-support' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
}

/**
 * Nest's LoggerService on pino: `new Logger(Context).log({ msg, ticketId, … })` becomes one JSON
 * line with those fields, the context and the current request id.
 */
@Injectable()
export class AppLogger implements LoggerService {
  readonly pino: PinoLogger;

  constructor(config: AppConfig) {
    this.pino = createPino(config.logLevel);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    // Nest passes the context last; Logger.error passes a stack before it.
    const context = typeof params[params.length - 1] === 'string' ? (params[params.length - 1] as string) : undefined;
    const stack = params.length >= 2 && typeof params[0] === 'string' ? (params[0] as string) : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const { msg, ...fields } = message as Record<string, unknown>;
      this.pino[level]({ context, ...fields, ...(stack ? { stack } : {}) }, typeof msg === 'string' ? msg : '');
    } else {
      this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
