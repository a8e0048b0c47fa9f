// The operator console's GraphQL: queries and mutations over HTTP POST
// /graphql, subscriptions over graphql-ws on the same path. The operator
// token travels in the Authorization header and in the socket's
// connectionParams, never in a URL.
import { type Client, createClient } from 'graphql-ws/client';
import { ApiError } from './errors.js';

export class GraphQLError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'GraphQLError';
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const FORBIDDEN = /UNAUTHENTICATED|FORBIDDEN|unauthori[sz]ed|not authori[sz]ed|operator token|admin token/i;

function toError(errors: NonNullable<GraphQLResponse<unknown>['errors']>): Error {
  const first = errors[0]!;
  const code = first.extensions?.code;
  if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') return new ApiError(first.message, 401, code);
  return new GraphQLError(first.message, code);
}

export async function gql<T = Record<string, unknown>>(token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      // yoga's CSRF prevention: a header no cross-site form can send.
      'x-graphql-yoga-csrf': '1',
    },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
    cache: 'no-store',
    credentials: 'omit',
  });
  let body: GraphQLResponse<T> | undefined;
  try {
    body = (await res.json()) as GraphQLResponse<T>;
  } catch {
    body = undefined;
  }
  if (body?.errors?.length) {
    const err = toError(body.errors);
    if (res.status === 401 || res.status === 403) throw new ApiError(err.message, 401, 'authentication_error');
    throw err;
  }
  if (!res.ok || !body?.data) {
    if (res.status === 401 || res.status === 403) throw new ApiError('The operator token was not accepted.', 401, 'authentication_error');
    throw new ApiError(`The admin API answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`, res.status, undefined);
  }
  return body.data;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'refused';

/** A socket that reconnects by itself (backoff up to 10 s), except when the token is refused. */
export function liveClient(token: string, onState: (state: LiveState, detail?: string) => void): Client {
  let everConnected = false;
  return createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: async (retries) => {
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** Math.min(retries, 5)) + Math.random() * 300));
    },
    shouldRetry: (event) => {
      const close = event as { code?: number; reason?: string } | null;
      // 4401/4403: the server refused the token; retrying would not help.
      if (close && (close.code === 4401 || close.code === 4403 || (close.code === 4400 && FORBIDDEN.test(close.reason ?? '')))) {
        onState('refused', close.reason || 'The operator token was refused.');
        return false;
      }
      return true;
    },
    on: {
      connecting: () => onState(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        everConnected = true;
        onState('live');
      },
      closed: () => onState('reconnecting'),
    },
  });
}

/** Subscribes; returns the unsubscribe function. `onError` gets GraphQL errors in words. */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown> | undefined, onData: (data: T) => void, onError: (message: string) => void): () => void {
  return client.subscribe<T>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (result) => {
        if (result.errors?.length) onError(result.errors.map((e) => e.message).join('; '));
        else if (result.data) onData(result.data as T);
      },
      error: (err) => {
        if (Array.isArray(err)) onError(err.map((e: { message: string }) => e.message).join('; '));
        // Socket-level errors are reported through the client's state instead.
      },
      complete: () => {},
    },
  );
}
