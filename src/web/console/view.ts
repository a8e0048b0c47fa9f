// The operator console: every project with its balance, live usage and
// provider health from the GraphQL subscriptions, and the admin actions.
import { ApiError, plainError } from '../lib/errors.js';
import { ago, compact, int, money, ms, percent } from '../lib/format.js';
import { gql, type LiveState, liveClient, subscribe } from '../lib/graphql.js';
import { html, useCallback, useEffect, useMemo, useRef, useState } from '../lib/html.js';
import { Card, ErrorBox, Stat, Topbar, useTick } from '../lib/ui.js';
import { type ActionTab, Actions } from './forms.js';
import { addToWindow, type FeedItem, Feed, LiveCharts, type Second } from './live.js';
import RequestsPage from './requests.js';
import {
  CONSOLE_QUERY,
  type ConsoleData,
  HEALTH_SUBSCRIPTION,
  type HealthEventItem,
  type HealthItem,
  USAGE_SUBSCRIPTION,
  type UpstreamKeyItem,
  type UsageEventItem,
} from './queries.js';

const FEED_MAX = 100;

/** The console's pages, kept in the address's hash so a reload stays where it was. */
type Page = 'overview' | 'requests';
const pageOfHash = (): Page => (location.hash === '#requests' ? 'requests' : 'overview');
const REFRESH_MS = 10_000;

const LIVE_LABEL: Record<LiveState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  refused: 'token refused',
};

function Health(props: { keys: UpstreamKeyItem[]; live: Map<string, HealthEventItem> }) {
  if (props.keys.length === 0) {
    return html`<p class="muted">No upstream keys yet. Add one under Actions → Upstream key (or start the gateway with OPENAI_API_KEY and friends). Test keys never need one.</p>`;
  }
  return html`<div class="health-grid" data-testid="health">
    ${props.keys.map((k) => {
      const h: HealthItem = { ...(k.health ?? { state: 'unknown' }), ...(props.live.get(k.id) ?? {}) };
      const state = h.state.toLowerCase();
      return html`<div class=${`health ${state}`} data-testid="health-key" data-key-id=${k.id} data-state=${state}>
        <div class="h-top">
          <span class="h-name" title=${k.id}>${k.label}</span>
          <span class=${`pill ${state}`} data-testid="health-state">${state.replace('_', ' ')}</span>
        </div>
        <div class="muted" style=${{ fontSize: '12px' }}>${k.provider}${k.baseUrl ? ` · ${k.baseUrl}` : ''}</div>
        <div class="h-nums">
          <span title="success rate over the recent window">✓ ${percent(h.successRate)}</span>
          <span title="95th percentile latency">p95 ${ms(h.p95LatencyMs)}</span>
          ${h.inFlight ? html`<span>${int(h.inFlight)} in flight</span>` : null}
        </div>
        ${h.lastError ? html`<div class="h-err" title=${h.lastErrorAt ?? ''}>Last error${h.lastErrorAt ? ` ${ago(h.lastErrorAt)}` : ''}: ${h.lastError}</div>` : null}
      </div>`;
    })}
  </div>`;
}

export default function ConsoleView(props: { secret: string; onSignOut: () => void }) {
  const token = props.secret;
  const [data, setData] = useState<ConsoleData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [liveState, setLiveState] = useState<LiveState>('connecting');
  const [liveError, setLiveError] = useState<string | null>(null);
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [health, setHealth] = useState<Map<string, HealthEventItem>>(new Map());
  const [tab, setTab] = useState<ActionTab>('project');
  const [projectId, setProjectId] = useState('');
  const [page, setPage] = useState<Page>(pageOfHash);
  useEffect(() => {
    const onHash = () => setPage(pageOfHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const go = (next: Page) => {
    history.replaceState(null, '', next === 'requests' ? '#requests' : location.pathname);
    setPage(next);
  };
  const perSecond = useRef(new Map<number, Second>());
  const actionsRef = useRef<HTMLDivElement>(null);
  useTick(1000);
  const now = Date.now();

  const load = useCallback(async () => {
    try {
      setData(await gql<ConsoleData>(token, CONSOLE_QUERY));
      setError(null);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('The operator token is no longer accepted. Sign out and sign in again.');
      else setError(`Could not load the console: ${plainError(err)}`);
    }
  }, [token]);

  useEffect(() => {
    void load();
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);

  useEffect(() => {
    const client = liveClient(token, (state, detail) => {
      setLiveState(state);
      if (state === 'refused') setLiveError(`The live feed refused the operator token${detail ? `: ${detail}` : '.'}`);
      if (state === 'live') setLiveError(null);
    });
    const stopUsage = subscribe<{ usage: UsageEventItem }>(
      client,
      USAGE_SUBSCRIPTION,
      undefined,
      ({ usage }) => {
        const receivedAt = Date.now();
        addToWindow(perSecond.current, usage, receivedAt);
        setFeed((list) => [{ ...usage, receivedAt }, ...list.filter((e) => e.requestId !== usage.requestId)].slice(0, FEED_MAX));
      },
      (message) => setLiveError(`Live usage: ${message}`),
    );
    const stopHealth = subscribe<{ providerHealth: HealthEventItem }>(
      client,
      HEALTH_SUBSCRIPTION,
      undefined,
      ({ providerHealth }) => setHealth((map) => new Map(map).set(providerHealth.upstreamKeyId, providerHealth)),
      (message) => setLiveError(`Live provider health: ${message}`),
    );
    return () => {
      stopUsage();
      stopHealth();
      void client.dispose();
    };
  }, [token]);

  const projects = data?.projects.nodes ?? [];
  const names = useMemo(() => new Map(projects.map((p) => [p.id, p.name])), [projects]);
  // Balances and usage move with every request: reload shortly after a burst
  // of events (at most every 2 s), which also names projects created since.
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (feed.length === 0 || reloadTimer.current) return;
    reloadTimer.current = setTimeout(() => {
      reloadTimer.current = null;
      void load();
    }, 2000);
  }, [feed]);
  useEffect(() => () => {
    if (reloadTimer.current) clearTimeout(reloadTimer.current);
  }, []);
  const currency = projects[0]?.currency ?? 'USD';
  const nowSecond = Math.floor(now / 1000);
  const recent = (field: keyof Second) => {
    let sum = 0;
    for (let s = nowSecond - 10; s < nowSecond; s++) sum += perSecond.current.get(s)?.[field] ?? 0;
    return sum / 10;
  };
  const totalBalance = projects.reduce((sum, p) => sum + Number(p.balance), 0);
  const act = (next: ActionTab, id: string) => {
    setTab(next);
    setProjectId(id);
    actionsRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };

  return html`<div>
    <${Topbar} where="Operator console" onSignOut=${props.onSignOut}>
      <nav class="row" style=${{ gap: '4px' }} aria-label="Console pages">
        <button type="button" class="small" aria-pressed=${String(page === 'overview')} onClick=${() => go('overview')} data-testid="nav-overview">Overview</button>
        <button type="button" class="small" aria-pressed=${String(page === 'requests')} onClick=${() => go('requests')} data-testid="nav-requests">Requests</button>
      </nav>
      <span class=${`pill ${liveState === 'live' ? 'live-on' : liveState === 'refused' ? 'live-off' : 'live-wait'}`} data-testid="live-state">
        ${LIVE_LABEL[liveState]}
      </span>
    <//>
    <main>
      <${ErrorBox} error=${error} testid="console-error" />
      <${ErrorBox} error=${liveError} testid="live-error" />
      ${page === 'requests' ? html`<${RequestsPage} token=${token} />` : null}
      <div hidden=${page !== 'overview'} data-testid="overview-page">
      <div class="stats">
        <${Stat} label="Projects" value=${data ? int(projects.length) : '…'} sub=${`${int(projects.filter((p) => p.status === 'ARCHIVED').length)} archived`} />
        <${Stat} label="Total balance" value=${data ? money(totalBalance, currency) : '…'} sub="across all projects" />
        <${Stat} label="Requests / s" value=${compact(recent('requests'))} sub="average of the last 10 s" testid="stat-rps" />
        <${Stat} label="Tokens / s" value=${compact(recent('tokens'))} sub="average of the last 10 s" />
        <${Stat} label="Spend / s" value=${money(recent('cost'), currency)} sub="average of the last 10 s" />
      </div>
      <${LiveCharts} window=${perSecond.current} nowSecond=${nowSecond} currency=${currency} />
      <div class="grid">
        <${Card} class="span-7" title="Live usage" hint="every settled request, as it happens" testid="feed-card">
          <${Feed} items=${feed} projectName=${(id: string | null | undefined) => (id ? (names.get(id) ?? id) : '–')} currency=${currency} now=${now} />
        <//>
        <${Card} class="span-5" title="Provider health" hint="per upstream key, live" testid="health-card">
          <${Health} keys=${data?.upstreamKeys ?? []} live=${health} />
        <//>
        <${Card} class="span-7" title="Projects" hint="balances and usage" testid="projects-card">
          ${projects.length === 0
            ? html`<p class="muted">${data ? 'No projects yet: create one under Actions.' : 'Loading…'}</p>`
            : html`<div class="table-wrap">
                <table class="stack" data-testid="projects">
                  <thead>
                    <tr>
                      <th>Project</th>
                      <th class="num">Balance</th>
                      <th class="num">Usage</th>
                      <th class="num">Keys</th>
                      <th></th>
                    </tr>
                  </thead>
                  <tbody>
                    ${projects.map(
                      (p) => html`<tr data-testid="project-row" data-project-id=${p.id}>
                        <td class="lead">
                          <b>${p.name}</b>${p.status === 'ARCHIVED' ? html` <span class="pill">archived</span>` : null}<span class="sub-line mono">${p.id}</span>
                        </td>
                        <td class="num" data-label="Balance">
                          <span><span data-testid="project-balance">${money(p.balance, p.currency)}</span><span class="sub-line">${money(p.reserved, p.currency)} reserved</span></span>
                        </td>
                        <td class="num" data-label="Usage">
                          <span>${int(p.usageSummary?.requests ?? 0)} req<span class="sub-line">${money(p.usageSummary?.costTotal ?? '0', p.currency)} spent</span></span>
                        </td>
                        <td class="num" data-label="Active keys" title=${p.apiKeys.map((k) => `${k.prefix}…${k.last4} ${k.state.toLowerCase()}`).join('\n')}>
                          ${int(p.apiKeys.filter((k) => k.state === 'ACTIVE').length)}
                        </td>
                        <td class="actions">
                          <div class="row" style=${{ gap: '4px' }}>
                            <button type="button" class="small" onClick=${() => act('key', p.id)}>Key</button>
                            <button type="button" class="small" onClick=${() => act('credit', p.id)}>Credit</button>
                            <button type="button" class="small" onClick=${() => act('models', p.id)}>Models</button>
                          </div>
                        </td>
                      </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`}
        <//>
        <div class="span-5" ref=${actionsRef}>
          <${Card} title="Actions" testid="actions-card">
            <${Actions}
              token=${token}
              projects=${projects}
              models=${data?.models ?? []}
              tab=${tab}
              projectId=${projectId}
              onTab=${setTab}
              onProject=${setProjectId}
              onChanged=${load}
            />
          <//>
        </div>
      </div>
      </div>
    </main>
  </div>`;
}
