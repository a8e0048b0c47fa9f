import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

// Small GraphQL clients for the tests: fetch over HTTP and graphql-ws, as an
// admin tool would use them.

export interface GraphQLResult<T = Record<string, any>> {
  status: number;
  data: T | null | undefined;
  errors: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }> | undefined;
}

export interface RequestOptions {
  /** The operator token; null sends no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
}

export function graphqlClient(baseUrl: string, defaultToken: string) {
  async function request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}): Promise<GraphQLResult<T>> {
    const token = options.token === undefined ? defaultToken : options.token;
    const res = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...options.headers,
      },
      body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
    });
    const body = (await res.json()) as { data?: T | null; errors?: GraphQLResult['errors'] };
    return { status: res.status, data: body.data, errors: body.errors };
  }

  /** Like request, but fails the test on any GraphQL error and returns data. */
  async function ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}): Promise<T> {
    const result = await request<T>(query, variables, options);
    if (result.errors?.length || !result.data) throw new Error(`GraphQL errors (${result.status}): ${JSON.stringify(result.errors)}`);
    return result.data;
  }

  return { request, ok };
}

export function wsClient(baseUrl: string, connectionParams: Record<string, unknown> | undefined): Client {
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    ...(connectionParams ? { connectionParams } : {}),
    retryAttempts: 0,
    lazy: true,
  });
}

/** Subscribes and collects results; `next()` resolves with the next one to arrive. */
export function collect<T = Record<string, any>>(client: Client, query: string, variables?: Record<string, unknown>) {
  const queue: Array<{ data?: T | null; errors?: unknown }> = [];
  const waiting: Array<(value: { data?: T | null; errors?: unknown }) => void> = [];
  let failure: unknown;
  let failed: ((err: unknown) => void) | undefined;
  const unsubscribe = client.subscribe<T>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (value) => {
        const w = waiting.shift();
        if (w) w(value as never);
        else queue.push(value as never);
      },
      error: (err) => {
        failure = err;
        failed?.(err);
      },
      complete: () => {
        failure ??= new Error('the subscription completed');
        failed?.(failure);
      },
    },
  );
  return {
    next(timeoutMs = 5_000): Promise<{ data?: T | null; errors?: unknown }> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no subscription result within ${timeoutMs} ms`)), timeoutMs);
        failed = (err) => {
          clearTimeout(timer);
          reject(err);
        };
        waiting.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    },
    /** The error the subscription ended with, once it has. */
    get error() {
      return failure;
    },
    unsubscribe,
  };
}
