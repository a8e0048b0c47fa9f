// Histogram buckets. Latencies of an LLM gateway run from milliseconds (a
// refusal, an embedding) to minutes (a long reasoning stream), so the
// duration buckets span 5 ms to 5 min. Token usage takes the buckets the
// OpenTelemetry GenAI convention recommends for gen_ai.client.token.usage.

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 300];

/** Time to first token: the same span, finer below a second where most first tokens land. */
export const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 20, 40, 80, 160, 300];

/** An upstream attempt: from the call until its answer or first chunk. */
export const ATTEMPT_BUCKETS = DURATION_BUCKETS;

export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** Rows per settlement batch (at most 256, see billing/metering.ts). */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** Database statements and cross-replica relays: sub-millisecond to seconds. */
export const STATEMENT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
