// The gateway knows providers only through the set it is given: a provider
// that exists nowhere but in that set is seeded from its own variable,
// offered by the `providers` query, accepted in keys and routes and called;
// one missing from it is refused. With the registry's set, the README's
// *_API_KEY variables seed the pool as before.
import { afterAll, describe, expect, it } from 'vitest';
import type { ProviderSet } from '../../src/contract/provider-set.js';
import { firstStart } from '../../src/core/bootstrap/first-start.js';
import { silentLogger } from '../../src/core/logger.js';
import { createOpenAIAdapter } from '../../src/providers/openai/openai-adapter.js';
import { openaiCompatibleDialect } from '../../src/providers/openai/openai-dialect.js';
import { defaultProviders } from '../../src/providers/registry.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from './graphql-client.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function started(options: Parameters<typeof startGateway>[0]): Promise<TestGateway> {
  const gw = await startGateway(options);
  cleanups.push(() => gw.close());
  return gw;
}

const KEYS = `{ upstreamKeys { label provider secretLast4 baseUrl } }`;
const PROVIDERS = `{ providers { provider displayName defaultBaseUrl baseUrlRequired seedEnv embeddings keys } }`;

describe('the provider set', () => {
  it('is all the gateway knows: an added provider is seeded, listed, routed to; a missing one is refused', async () => {
    const upstream: Emulator = await startOpenAIEmulator();
    cleanups.push(() => upstream.close());
    const acme = createOpenAIAdapter({
      ...openaiCompatibleDialect,
      info: { id: 'acme', displayName: 'Acme AI', defaultBaseUrl: upstream.url, seedEnv: 'ACME_API_KEY', capabilities: { embeddings: false } },
    });
    const providers: ProviderSet = { ...defaultProviders(), adapters: new Map([['acme', acme]]) };
    const gw = await started({ providers, env: { ACME_API_KEY: 'sk-acme-seeded-0001', OPENAI_API_KEY: 'sk-not-a-provider-here' } });
    const gql = graphqlClient(gw.url, gw.adminToken);

    expect((await gql.ok(KEYS)).upstreamKeys).toEqual([{ label: 'env:ACME_API_KEY', provider: 'acme', secretLast4: '0001', baseUrl: null }]);
    expect((await gql.ok(PROVIDERS)).providers).toEqual([
      { provider: 'acme', displayName: 'Acme AI', defaultBaseUrl: upstream.url, baseUrlRequired: false, seedEnv: 'ACME_API_KEY', embeddings: false, keys: 1 },
    ]);

    const refused = await gql.request(`mutation { addUpstreamKey(input: {provider: "openai", label: "x", secret: "sk-12345678"}) { id } }`);
    expect(refused.errors?.[0]).toMatchObject({ message: "Invalid value for 'provider': must be one of acme.", extensions: { code: 'BAD_USER_INPUT', field: 'provider' } });
    const route = (provider: string) =>
      gql.request(`mutation($p: String!) { upsertModel(input: {id: "acme-chat", kind: CHAT, ownedBy: "acme", inputPrice: "1", outputPrice: "2", routes: [{provider: $p, upstreamModel: "gpt-4o-mini"}]}) { id } }`, {
        p: provider,
      });
    expect((await route('openai')).errors?.[0]?.message).toBe("Invalid value for 'routes.0.provider': must be one of acme.");
    expect((await route('acme')).errors).toBeUndefined();

    // The seeded key has no base URL of its own: the call goes to the one acme declares.
    const live = await gw.project({ mode: 'live' });
    const answer = await gw.client(live.secret).chat.completions.create({ model: 'acme-chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 });
    expect(answer.choices[0]!.message.content).toBeTruthy();
    expect(upstream.requests.map((r) => [r.path, r.headers['authorization']])).toEqual([['/v1/chat/completions', 'Bearer sk-acme-seeded-0001']]);
  });

  it('from the registry: each provider’s documented variable seeds one key, once; blank ones none', async () => {
    const env = { OPENAI_API_KEY: ' sk-seed-openai-1111 ', ANTHROPIC_API_KEY: 'sk-ant-seed-2222', GEMINI_API_KEY: '  ' };
    const gw = await started({ env });
    const { gateway } = gw;
    // A second start on the same database adds nothing.
    await firstStart({ db: gw.database.db, config: gateway.config, bus: gateway.bus, secrets: gateway.secrets, adminTokens: gateway.adminTokens, logger: silentLogger, providers: gateway.providers, env });
    const gql = graphqlClient(gw.url, gw.adminToken);
    const keys = (await gql.ok(KEYS)).upstreamKeys;
    expect(keys.map((k: { label: string; provider: string; secretLast4: string }) => [k.label, k.provider, k.secretLast4]).sort()).toEqual([
      ['env:ANTHROPIC_API_KEY', 'anthropic', '2222'],
      ['env:OPENAI_API_KEY', 'openai', '1111'],
    ]);
    const listed = (await gql.ok(PROVIDERS)).providers as Array<{ provider: string; baseUrlRequired: boolean }>;
    expect(listed.map((p) => p.provider)).toEqual(['openai', 'anthropic', 'gemini', 'deepseek', 'openai-compatible']);
    expect(listed.filter((p) => p.baseUrlRequired).map((p) => p.provider)).toEqual(['openai-compatible']);
  });
});

