import pino from 'pino';
import { isDatabaseError, summarizeDatabaseError } from './db/database-error-summary.js';

/**
 * Every `err` a log line carries goes through here: a database error (or
 * one wrapping it) is logged as its summary, never with the statement's
 * parameters; anything else as pino's standard serializer shows it.
 */
export function serializeError(err: unknown): unknown {
  if (err instanceof Error && isDatabaseError(err)) return summarizeDatabaseError(err);
  return err instanceof Error ? pino.stdSerializers.err(err) : err;
}

/** The process's logger: credentials in request headers redacted, errors serialized as above. */
export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["x-goog-api-key"]'],
    serializers: { err: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}
