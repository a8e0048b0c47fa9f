// Every failure shown to a person goes through plainError: what happened and
// what to do, never a stack trace or a raw status line.

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const HINTS: Record<number, string> = {
  401: 'Check the key or token and sign in again.',
  402: 'Top up the balance (an operator can credit it) or lower max_tokens.',
  403: 'Ask an operator to allow this model for the project.',
  408: 'The request took too long; try again or raise the timeout.',
  413: 'The request is too large.',
  429: 'Too many requests right now; wait a moment and try again.',
  503: 'No upstream provider could answer right now; try again shortly.',
  504: 'The provider took too long to answer; try again.',
};

/** Reads an OpenAI-style (or any) error body into an ApiError. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let message = '';
  let type: string | undefined;
  try {
    const body = (await res.json()) as { error?: { message?: string; type?: string } | string; message?: string };
    if (typeof body.error === 'object' && body.error) {
      message = body.error.message ?? '';
      type = body.error.type;
    } else if (typeof body.error === 'string') message = body.error;
    else if (body.message) message = body.message;
  } catch {
    // not JSON
  }
  return new ApiError(message || `The gateway answered ${res.status} ${res.statusText}.`, res.status, type);
}

export function plainError(err: unknown): string {
  if (err instanceof ApiError) {
    const hint = HINTS[err.status];
    const text = err.message.trim().replace(/\.?$/, '.');
    return hint && !text.includes(hint) ? `${text} ${hint}` : text;
  }
  if (err instanceof DOMException && err.name === 'AbortError') return 'Stopped.';
  if (err instanceof TypeError) return 'Could not reach the gateway. Check that it is running and that this page is served by it, then try again.';
  if (err instanceof Error) return err.message;
  return String(err);
}
