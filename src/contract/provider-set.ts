import type { Dispatcher } from 'undici';
import type { ProviderAdapter } from './provider.js';

/** How the gateway wants its upstream connection pool opened. */
export interface UpstreamAgentSettings {
  /** Why a connection to `host` (at `address` once resolved) is refused; absent, every host is let through. */
  check?: (host: string, address?: string) => string | undefined;
  /** Told the operator-facing reason of each refusal. */
  onRefused?: (reason: string) => void;
  /** How long a silent upstream is waited for: its response headers, and between two reads of its body. */
  timeouts: { headersMs: number; bodyMs: number };
}

/**
 * What the composition root hands the core: the adapters it may route to,
 * the test-mode adapter, and how to open the upstream connection pool. The
 * core never imports src/providers; src/main.ts passes the registry's set.
 */
export interface ProviderSet {
  /** The real upstream adapters by `info.id`. */
  readonly adapters: ReadonlyMap<string, ProviderAdapter>;
  /** Test mode's adapter: answers in-process, never touches the network. */
  readonly mock: ProviderAdapter;
  createAgent(settings: UpstreamAgentSettings): Dispatcher;
}
