import type { HealthState as HealthStateValue } from '../../core/health/health-tracker.js';
import { healthOfKeys, type KeyHealthView } from '../../core/health/key-health.js';
import type { ProviderInfo } from '../../contract/provider-info.js';
import { builder } from '../builder.js';
import { busFeed } from '../bus-feed.js';

const STATES = ['healthy', 'degraded', 'cooling_down', 'down', 'disabled'] as const satisfies readonly HealthStateValue[];

export const HealthState = builder.enumType('HealthState', {
  values: {
    HEALTHY: { value: 'healthy' },
    DEGRADED: { value: 'degraded', description: 'Success rate under 90% over the recent window.' },
    COOLING_DOWN: { value: 'cooling_down', description: 'Rate limited upstream (429); skipped until the cooldown ends.' },
    DOWN: { value: 'down', description: 'Circuit open after repeated failures; half-open probes follow.' },
    DISABLED: { value: 'disabled', description: 'Switched off by an operator or after the upstream rejected the key.' },
  } as const,
});

const asState = (state: string): HealthStateValue => ((STATES as readonly string[]).includes(state) ? (state as HealthStateValue) : 'down');

export const ProviderHealth = builder.objectRef<KeyHealthView>('ProviderHealth').implement({
  description: 'The health of one upstream key as this replica sees it: sliding-window success rate and latency, state, last error.',
  fields: (t) => ({
    upstreamKeyId: t.exposeID('upstreamKeyId'),
    provider: t.exposeString('provider'),
    label: t.exposeString('label', { nullable: true, description: 'Null in live change events (they carry ids only).' }),
    state: t.field({ type: HealthState, resolve: (h) => asState(h.state) }),
    successRate: t.exposeFloat('successRate', { description: '0-1 over the recent window.' }),
    p50LatencyMs: t.exposeInt('p50LatencyMs', { nullable: true }),
    p95LatencyMs: t.exposeInt('p95LatencyMs', { nullable: true }),
    p50TtftMs: t.exposeInt('p50TtftMs', { nullable: true }),
    p95TtftMs: t.int({ nullable: true, resolve: (h) => h.p95TtftMs ?? null }),
    consecutiveFailures: t.int({ resolve: (h) => h.consecutiveFailures ?? 0 }),
    circuitOpenUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'While DOWN: when the next half-open probe may go through.',
      resolve: (h) => h.circuitOpenUntil ?? null,
    }),
    inFlight: t.exposeInt('inFlight'),
    requests: t.exposeInt('requests', { description: 'Outcomes in the window.' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastErrorAt: t.field({ type: 'DateTime', nullable: true, resolve: (h) => h.lastErrorAt }),
    cooldownUntil: t.field({ type: 'DateTime', nullable: true, resolve: (h) => h.cooldownUntil }),
    at: t.field({ type: 'DateTime', description: 'When this was observed.', resolve: (h) => h.at }),
  }),
});

interface ProviderSummaryShape {
  provider: string;
  /** Undefined for a provider only keys saved earlier still name. */
  info: ProviderInfo | undefined;
  keys: KeyHealthView[];
}

const ORDER: HealthStateValue[] = ['healthy', 'degraded', 'cooling_down', 'down', 'disabled'];

const ProviderSummary = builder.objectRef<ProviderSummaryShape>('ProviderSummary').implement({
  description: 'A provider across its keys: as healthy as its healthiest key.',
  fields: (t) => ({
    provider: t.exposeString('provider'),
    displayName: t.string({ description: 'How people see it; the id for a provider this gateway no longer has.', resolve: (p) => p.info?.displayName ?? p.provider }),
    defaultBaseUrl: t.string({
      nullable: true,
      description: 'Where its keys call when they set no baseUrl; null when every key must set one.',
      resolve: (p) => p.info?.defaultBaseUrl ?? null,
    }),
    baseUrlRequired: t.boolean({ description: 'A key of this provider needs a baseUrl.', resolve: (p) => p.info !== undefined && p.info.defaultBaseUrl === undefined }),
    seedEnv: t.string({ nullable: true, description: 'The environment variable that adds a key of this provider at start.', resolve: (p) => p.info?.seedEnv ?? null }),
    embeddings: t.boolean({ description: 'Whether it serves embeddings.', resolve: (p) => p.info?.capabilities.embeddings ?? false }),
    state: t.field({
      type: HealthState,
      nullable: true,
      description: 'Null when the provider has no keys.',
      resolve: (p) => {
        const states = p.keys.map((k) => asState(k.state));
        return ORDER.find((s) => states.includes(s)) ?? null;
      },
    }),
    keys: t.int({ resolve: (p) => p.keys.length }),
    healthyKeys: t.int({ resolve: (p) => p.keys.filter((k) => k.state === 'healthy').length }),
    inFlight: t.int({ resolve: (p) => p.keys.reduce((n, k) => n + k.inFlight, 0) }),
    requests: t.int({ description: 'Outcomes in the keys’ windows.', resolve: (p) => p.keys.reduce((n, k) => n + k.requests, 0) }),
    successRate: t.float({
      nullable: true,
      description: 'Over every outcome in the keys’ windows; null before the first.',
      resolve: (p) => {
        const total = p.keys.reduce((n, k) => n + k.requests, 0);
        return total === 0 ? null : p.keys.reduce((n, k) => n + k.successRate * k.requests, 0) / total;
      },
    }),
    keyHealth: t.field({ type: [ProviderHealth], resolve: (p) => p.keys }),
  }),
});

builder.queryFields((t) => ({
  providerHealth: t.field({
    type: [ProviderHealth],
    description: 'Every upstream key’s health now, optionally for one provider.',
    args: { provider: t.arg.string() },
    resolve: (_root, args, ctx) => healthOfKeys(ctx.gateway, args.provider),
  }),
  providers: t.field({
    type: [ProviderSummary],
    description: 'Each provider this gateway has (then any other a key names) with the state of its keys.',
    resolve: async (_root, _args, ctx) => {
      const all = await healthOfKeys(ctx.gateway);
      const known = ctx.gateway.providers;
      const names = [...new Set<string>([...known.map((p) => p.id), ...all.map((k) => k.provider)])];
      return names.map((provider) => ({ provider, info: known.find((p) => p.id === provider), keys: all.filter((k) => k.provider === provider) }));
    },
  }),
}));

builder.subscriptionField('providerHealth', (t) =>
  t.field({
    type: ProviderHealth,
    description:
      'Every key’s health at once, then each state change as it happens (from any replica), and a snapshot of every key again at each heartbeat (10 s).',
    args: { provider: t.arg.string() },
    subscribe: (_root, args, ctx) => {
      const provider = args.provider ?? null;
      const snapshot = () => healthOfKeys(ctx.gateway, provider);
      return busFeed(ctx, 'health', {
        accept: (event) => !provider || event.provider === provider,
        initial: snapshot,
        heartbeat: { everyMs: ctx.healthHeartbeatMs, values: snapshot },
      });
    },
    resolve: (event) => ({
      ...(event as unknown as KeyHealthView),
      label: typeof event.label === 'string' ? event.label : null,
      at: event.at,
    }),
  }),
);
