// A database error as a log line may show it. drizzle's DrizzleQueryError
// carries the statement's parameters in its message, its stack and its
// `params`, and the driver's error below it (PGlite's, postgres.js') adds
// them again with the failing row in `detail`: client text, token hashes
// and key prefixes, verbatim, at any length. The summary keeps what tells
// an operator which statement failed and why, and no value.

const STATEMENT_CHARS = 80;
const MESSAGE_CHARS = 200;
const PARAMS_SHOWN = 12;
const FRAMES_SHOWN = 10;

export interface DatabaseErrorSummary {
  type: string;
  /** The first words of the SQL text (ours, never a client's value). */
  statement?: string;
  /** How many parameters, and each one's type and length: never a value. */
  params?: string;
  /** SQLSTATE, such as 54000 (index row too large) or 22021 (NUL in text). */
  code?: string;
  message: string;
  table?: string;
  column?: string;
  constraint?: string;
  routine?: string;
  stack?: string;
}

interface QueryError extends Error {
  query: string;
  params: unknown[];
}

const isQueryError = (e: unknown): e is QueryError =>
  e instanceof Error && typeof (e as Partial<QueryError>).query === 'string' && Array.isArray((e as Partial<QueryError>).params);

/** PGlite's and postgres.js' server errors: a SQLSTATE and the server routine that raised it. */
const isServerError = (e: unknown): e is Error & Record<string, unknown> => {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && 'routine' in e;
};

/** The error itself or one of its causes, when it came from the database. */
export function isDatabaseError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isQueryError(e) || isServerError(e)) return true;
  }
  return false;
}

function firstWords(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  if (flat.length <= STATEMENT_CHARS) return flat;
  const cut = flat.slice(0, STATEMENT_CHARS);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 1))} …`;
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return `text(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (v instanceof Date) return 'date';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `bytes(${v.length})`;
  return typeof v;
}

function describeParams(params: unknown[]): string {
  const shown = params.slice(0, PARAMS_SHOWN).map(describeValue).join(', ');
  return `${params.length}: ${shown}${params.length > PARAMS_SHOWN ? ', …' : ''}`;
}

/**
 * The server's message, cut short, with every parameter that occurs in it
 * replaced by its position: Postgres quotes the offending input in some
 * messages ("invalid input syntax for type integer: \"…\"").
 */
function redactMessage(message: string, params: unknown[]): string {
  let text = message.length > MESSAGE_CHARS * 4 ? message.slice(0, MESSAGE_CHARS * 4) : message;
  params.forEach((p, i) => {
    const value = typeof p === 'string' ? p : typeof p === 'number' || typeof p === 'bigint' ? String(p) : undefined;
    // Short values (a status, a small number) say nothing secret and would blank common words.
    if (value === undefined || value.length < 6) return;
    const probe = value.length > 64 ? value.slice(0, 64) : value;
    for (let at = text.indexOf(probe); at !== -1; at = text.indexOf(probe)) {
      let end = at + probe.length;
      while (end < text.length && end - at < value.length && text[end] === value[end - at]) end++;
      text = `${text.slice(0, at)}$${i + 1}${text.slice(end)}`;
    }
  });
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text;
}

const field = (e: Record<string, unknown>, ...names: string[]): string | undefined => {
  for (const name of names) if (typeof e[name] === 'string' && e[name]) return (e[name] as string).slice(0, 64);
  return undefined;
};

/** Stack frames only: the first stack line repeats the message, values included. */
function frames(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const lines = stack.split('\n').filter((l) => /^\s+at /.test(l));
  return lines.length > 0 ? lines.slice(0, FRAMES_SHOWN).join('\n') : undefined;
}

/** What a log line may carry of a database error (the error or one of its causes came from the database). */
export function summarizeDatabaseError(err: Error): DatabaseErrorSummary {
  let query: QueryError | undefined;
  let server: (Error & Record<string, unknown>) | undefined;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (!query && isQueryError(e)) query = e;
    if (!server && isServerError(e)) server = e;
  }
  const params = query?.params ?? [];
  const cause = server?.message ?? 'query failed';
  // A wrapper of the database error (ours) keeps its own words in front.
  const message = err === query || err === server ? cause : `${err.message}: ${cause}`;
  const summary: DatabaseErrorSummary = { type: err.constructor?.name || err.name, message: redactMessage(message, params) };
  if (query) {
    summary.statement = firstWords(query.query);
    summary.params = describeParams(params);
  }
  if (server) {
    summary.code = server.code as string;
    const table = field(server, 'table', 'table_name');
    const column = field(server, 'column', 'column_name');
    const constraint = field(server, 'constraint', 'constraint_name');
    const routine = field(server, 'routine');
    if (table) summary.table = table;
    if (column) summary.column = column;
    if (constraint) summary.constraint = constraint;
    if (routine) summary.routine = routine;
  }
  const stack = frames(err.stack);
  if (stack) summary.stack = stack;
  return summary;
}
