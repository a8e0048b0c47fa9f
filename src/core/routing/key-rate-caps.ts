/** The caps an operator set on an upstream key (null: none). */
export interface CappedKey {
  id: string;
  rpmLimit: number | null;
  tpmLimit: number | null;
}

/** One request counted against a key; its tokens are corrected once the upstream reports usage. */
export interface CapTicket {
  at: number;
  tokens: number;
}

const WINDOW_MS = 60_000;

/**
 * Per-upstream-key requests and tokens over the last minute, in memory (so
 * per replica), to keep each key under the RPM/TPM caps its provider gave
 * it. A request is counted when it is sent, with an estimate of its tokens
 * that the real usage replaces when it is known.
 */
export class KeyRateCaps {
  readonly #windows = new Map<string, CapTicket[]>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs = WINDOW_MS,
  ) {}

  #window(id: string): CapTicket[] {
    const tickets = this.#windows.get(id);
    if (!tickets) return [];
    const since = this.now() - this.windowMs;
    let drop = 0;
    while (drop < tickets.length && tickets[drop]!.at <= since) drop++;
    if (drop > 0) tickets.splice(0, drop);
    if (tickets.length === 0) this.#windows.delete(id);
    return tickets;
  }

  /**
   * Milliseconds until the key may take a request of about `tokens` tokens:
   * 0 when it may now. A request bigger than the whole TPM cap is let through
   * on an idle key, so it is not refused forever.
   */
  waitMs(key: CappedKey, tokens: number): number {
    if (key.rpmLimit == null && key.tpmLimit == null) return 0;
    const tickets = this.#window(key.id);
    const now = this.now();
    let wait = 0;
    if (key.rpmLimit != null && tickets.length >= key.rpmLimit) {
      const freeing = tickets[tickets.length - Math.max(1, key.rpmLimit)]!;
      wait = Math.max(wait, freeing.at + this.windowMs - now);
    }
    if (key.tpmLimit != null) {
      let used = tickets.reduce((sum, t) => sum + t.tokens, 0);
      for (const t of tickets) {
        if (used + tokens <= key.tpmLimit) break;
        used -= t.tokens;
        wait = Math.max(wait, t.at + this.windowMs - now);
      }
    }
    return Math.max(0, wait);
  }

  /** Counts a request sent with the key; only keys with a cap are tracked. */
  take(key: CappedKey, tokens: number): CapTicket | undefined {
    if (key.rpmLimit == null && key.tpmLimit == null) return undefined;
    const tickets = this.#window(key.id);
    const ticket = { at: this.now(), tokens: Math.max(0, tokens) };
    tickets.push(ticket);
    this.#windows.set(key.id, tickets);
    return ticket;
  }

  /** The tokens the call really used (prompt and completion), once known. */
  settle(ticket: CapTicket | undefined, tokens: number): void {
    if (ticket) ticket.tokens = Math.max(0, tokens);
  }

  /** Requests and tokens counted for the key in the current window. */
  usage(id: string): { requests: number; tokens: number } {
    const tickets = this.#window(id);
    return { requests: tickets.length, tokens: tickets.reduce((sum, t) => sum + t.tokens, 0) };
  }
}
