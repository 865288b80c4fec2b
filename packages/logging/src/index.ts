// Structured logs (SPEC section 9, issue 20): pino, one JSON line per request at the edge of each
// service and one per notable event, each with `time` (ISO 8601), `level` (its name), `service`
// and `message`. GATEHOUSE_LOG_LEVEL sets the least level written. What the services log is chosen
// field by field (never a request body, a query string or a header), and redaction stands behind
// that: a field named like a secret (password, client_secret, authorization, any token or code) is
// written as "[redacted]" wherever it appears, one or two levels down.
import { ConfigError, type Environment } from '@gatehouse/config';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** GATEHOUSE_LOG_LEVEL (default info); anything else is a ConfigError naming the variable. */
export function readLogLevel(env: Environment): LogLevel {
  const raw = env.GATEHOUSE_LOG_LEVEL?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'info';
  if (!(logLevels as readonly string[]).includes(raw))
    throw new ConfigError(
      'GATEHOUSE_LOG_LEVEL',
      `must be one of ${logLevels.join(', ')} (got ${JSON.stringify(env.GATEHOUSE_LOG_LEVEL)})`,
    );
  return raw as LogLevel;
}

/** Field names whose values are never written. */
export const secretFields = [
  'password',
  'passwordHash',
  'newPassword',
  'oldPassword',
  'secret',
  'client_secret',
  'clientSecret',
  'client_assertion',
  'assertion',
  'authorization',
  'cookie',
  'set-cookie',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'sessionToken',
  'apiToken',
  'adminToken',
  'code',
  'code_verifier',
  'device_code',
  'kek',
  'privateKey',
  'private_key',
] as const;

const quoted = (name: string) => `[${JSON.stringify(name)}]`;
const redactPaths = secretFields.flatMap((name) => [quoted(name), `*${quoted(name)}`]);

export interface LoggerOptions {
  /** `token`, `admin`, ...: every line carries it as `service`. */
  service: string;
  level?: LogLevel;
  /** Where lines go; default stdout, written asynchronously (flushed at exit, and by `flush()`). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

let current: Logger | undefined;

/**
 * The process's logger, which the edges' request lines and error reports go to: the one the
 * process set at start (setProcessLogger), else errors alone on stderr (tests, tools).
 */
export function processLogger(): Logger {
  current ??= createLogger({
    service: 'gatehouse',
    level: 'error',
    destination: pino.destination({ dest: 2, sync: true }),
  });
  return current;
}

export function setProcessLogger(logger: Logger): void {
  current = logger;
}

const entryLevels = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/**
 * Writes an entry as the services have always made them (`level` and `message` among its fields)
 * at its own level, info when it names none.
 */
export function logEntry(logger: Logger, entry: Readonly<Record<string, unknown>>): void {
  const { level, message, ...fields } = entry;
  const at =
    typeof level === 'string' && entryLevels.has(level)
      ? (level as Exclude<LogLevel, 'silent'>)
      : 'info';
  logger[at](fields, typeof message === 'string' ? message : '');
}

const traceparentPattern = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The trace id of a W3C traceparent header, or undefined when it is absent or malformed. */
export function traceIdOf(traceparent: string | string[] | undefined): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const traceId = traceparentPattern.exec(traceparent.trim())?.[1];
  return traceId && !/^0+$/.test(traceId) ? traceId : undefined;
}

/** What one request's line says. */
export interface RequestEntry {
  requestId?: string | undefined;
  traceId?: string | undefined;
  tenant?: string | undefined;
  method: string;
  /** The route template (`/oauth2/:asId/v1/token`), never the path with its ids; `unmatched` else. */
  route: string;
  status: number;
  durationMs: number;
}

/** The level of a request's line: `error` for a 5xx, `warn` for a 503 (unavailable for now). */
export function requestLevel(status: number): 'error' | 'warn' | 'info' {
  return status === 503 ? 'warn' : status >= 500 ? 'error' : 'info';
}

/** Writes one request's line at its level (requestLevel). */
export function logRequest(logger: Logger, entry: RequestEntry): void {
  const durationMs = Math.round(entry.durationMs * 1000) / 1000;
  logger[requestLevel(entry.status)]({ ...entry, durationMs }, 'request');
}

/** The tenant a request was resolved to, as the edges keep it in ctx.state. */
export function tenantOf(state: Record<string, unknown>): string | undefined {
  const tenant = state.tenant as string | { id?: unknown } | undefined;
  if (typeof tenant === 'string') return tenant;
  return typeof tenant?.id === 'string' ? tenant.id : undefined;
}
