import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';

export interface CapturedLog {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: unknown;
  params: unknown[];
}

/**
 * Routes every `new Logger(...)` of the code under test (the classes constructed outside a Nest app)
 * into memory, so a test can read what would have been logged. `restore()` puts Nest's default back.
 */
export function captureNestLogs(): { entries: CapturedLog[]; text(): string; clear(): void; restore(): void } {
  const entries: CapturedLog[] = [];
  const sink =
    (level: CapturedLog['level']) =>
    (message: unknown, ...params: unknown[]) => {
      entries.push({ level, message, params });
    };
  const logger: LoggerService = {
    log: sink('log'),
    error: sink('error'),
    warn: sink('warn'),
    debug: sink('debug'),
    verbose: sink('verbose'),
    fatal: sink('fatal'),
  };
  Logger.overrideLogger(logger);
  return {
    entries,
    text: () => entries.map((e) => JSON.stringify([e.level, e.message, e.params], errorReplacer)).join('\n'),
    clear: () => {
      entries.length = 0;
    },
    restore: () => Logger.overrideLogger(new ConsoleLogger()),
  };
}

/** JSON.stringify drops an Error's message and stack; keep them so nothing hides from a search. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { ...value, name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** Everything an error exposes to whoever logs or stores it: message, stack, own fields. */
export function everythingOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return [String(error), error.message, error.stack ?? '', JSON.stringify({ ...error }, errorReplacer)].join('\n');
}
