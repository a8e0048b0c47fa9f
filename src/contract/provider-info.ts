// What an upstream adapter says about itself, declared once in its own folder
// and collected by src/providers/registry.ts. Everything that names providers
// (key and route validation, the start-up seed, the GraphQL descriptions and
// the console's form) reads these instead of a list of its own.
export interface ProviderInfo {
  /** What upstream keys and model routes name: `openai`, `anthropic`, … */
  readonly id: string;
  /** How people see it (the console's form). */
  readonly displayName: string;
  /** As the provider's official SDK takes it; undefined when every key must bring its own baseUrl. */
  readonly defaultBaseUrl: string | undefined;
  /** The environment variable whose value is added to the pool as a key at start, if any. */
  readonly seedEnv: string | undefined;
  readonly capabilities: {
    /** Whether `embed` can succeed at all (Anthropic has no embeddings API). */
    readonly embeddings: boolean;
  };
}
