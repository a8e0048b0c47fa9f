// The project view: what one project key may see of its own project, from
// GET /api/usage, plus quick start snippets and the playground.
import type uPlot from 'uplot';
import { Chart } from '../lib/chart.js';
import { plainError } from '../lib/errors.js';
import { ago, compact, int, money, ms } from '../lib/format.js';
import { html, useCallback, useEffect, useMemo, useState } from '../lib/html.js';
import { restJson } from '../lib/rest.js';
import { Card, CopyButton, ErrorBox, Stat, Tabs, Topbar } from '../lib/ui.js';
import { Playground } from './playground.js';
import { QuickStart } from './quickstart.js';
import type { ProjectUsage, UsageRecord } from './types.js';

const RANGES = [
  { value: '1h', label: '1 h' },
  { value: '24h', label: '24 h' },
  { value: '7d', label: '7 days' },
  { value: '30d', label: '30 days' },
] as const;
type Range = (typeof RANGES)[number]['value'];
const REFRESH_MS = 15_000;
const COLORS = { spend: '#4f46e5', requests: '#0e9f6e', prompt: '#0ea5e9', completion: '#f59e0b', errors: '#dc2626' };

function ByModel(props: { usage: ProjectUsage }) {
  const rows = props.usage.by_model;
  if (rows.length === 0) return html`<p class="muted">No requests in this period yet. Try the playground below.</p>`;
  const maxTokens = Math.max(1, ...rows.map((r) => r.prompt_tokens + r.completion_tokens));
  const maxRequests = Math.max(1, ...rows.map((r) => r.requests));
  return html`<div class="bars" data-testid="by-model">
    <div class="legend">
      <span><i style=${{ background: COLORS.prompt }}></i>prompt tokens</span>
      <span><i style=${{ background: COLORS.completion }}></i>completion tokens</span>
      <span><i style=${{ background: COLORS.requests }}></i>requests</span>
    </div>
    ${rows.map(
      (r) => html`<div class="bar-row">
        <div class="bar-top">
          <span class="name">${r.model}</span>
          <span class="nums">${int(r.requests)} req · ${compact(r.prompt_tokens + r.completion_tokens)} tok · ${money(r.cost, props.usage.project.currency)}</span>
        </div>
        <div class="bar-track" title=${`${int(r.prompt_tokens)} prompt + ${int(r.completion_tokens)} completion tokens`}>
          <div class="seg" style=${{ width: `${(r.prompt_tokens / maxTokens) * 100}%`, background: COLORS.prompt }}></div>
          <div class="seg" style=${{ width: `${(r.completion_tokens / maxTokens) * 100}%`, background: COLORS.completion }}></div>
        </div>
        <div class="bar-track" style=${{ height: '4px' }} title=${`${int(r.requests)} requests, ${int(r.errors)} failed`}>
          <div class="seg" style=${{ width: `${((r.requests - r.errors) / maxRequests) * 100}%`, background: COLORS.requests }}></div>
          <div class="seg" style=${{ width: `${(r.errors / maxRequests) * 100}%`, background: COLORS.errors }}></div>
        </div>
      </div>`,
    )}
  </div>`;
}

/** "1,536 cached · 1,500 written" under the prompt tokens, when the request used the prompt cache. */
function cacheLine(r: UsageRecord) {
  const read = r.cached_tokens;
  const write5m = r.cache_write_tokens ?? 0;
  const write1h = r.cache_write_1h_tokens ?? 0;
  if (read + write5m + write1h === 0) return null;
  const parts = [read > 0 ? `${int(read)} cached` : '', write5m + write1h > 0 ? `${int(write5m + write1h)} written` : ''].filter(Boolean);
  return html`<span class="sub-line muted" data-testid="cache-tokens" title=${`prompt cache: ${int(read)} read, ${int(write5m)} written (5 min), ${int(write1h)} written (1 h)`}>${parts.join(' · ')}</span>`;
}

/** The door a request came through, as its path reads. */
const ENDPOINT_LABELS: Record<string, string> = {
  chat: 'chat/completions',
  embeddings: 'embeddings',
  responses: 'responses',
  messages: 'messages',
  generate_content: 'generateContent',
  embed_content: 'embedContent',
};

function Recent(props: { usage: ProjectUsage }) {
  const rows = props.usage.recent;
  if (rows.length === 0) return html`<p class="muted">No requests yet.</p>`;
  return html`<div class="table-wrap">
    <table class="stack" data-testid="recent">
      <thead>
        <tr>
          <th>Request</th>
          <th>Endpoint</th>
          <th>Status</th>
          <th class="num">Tokens in / out</th>
          <th class="num">Cost</th>
          <th class="num">Latency</th>
          <th class="num">When</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr>
            <td class="lead"><b>${r.model}</b><span class="sub-line mono">${r.id}</span></td>
            <td class="mono" data-label="Endpoint" data-testid="recent-endpoint">${ENDPOINT_LABELS[r.endpoint] ?? r.endpoint}</td>
            <td data-label="Status"><span class=${`pill ${r.status}`}>${r.status}${r.http_status && r.status !== 'ok' ? ` ${r.http_status}` : ''}</span></td>
            <td class="num" data-label="Tokens in / out">${int(r.prompt_tokens)} / ${int(r.completion_tokens)}${cacheLine(r)}</td>
            <td class="num" data-label="Cost">${money(r.cost, props.usage.project.currency)}</td>
            <td class="num" data-label="Latency">${ms(r.latency_ms)}</td>
            <td class="num muted" data-label="When" title=${r.created_at}>${ago(r.created_at)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export default function ProjectView(props: { secret: string; onSignOut: () => void }) {
  const [range, setRange] = useState<Range>('24h');
  const [usage, setUsage] = useState<ProjectUsage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [models, setModels] = useState<string[]>([]);

  const load = useCallback(async () => {
    try {
      setUsage(await restJson<ProjectUsage>(`/api/usage?range=${range}`, props.secret));
      setError(null);
    } catch (err) {
      setError(`Could not load this project's usage: ${plainError(err)}`);
    }
  }, [range, props.secret]);

  useEffect(() => {
    void load();
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);

  const chart = useMemo(() => {
    if (!usage) return null;
    const xs = usage.series.map((p) => new Date(p.t).getTime() / 1000);
    const spend: uPlot.AlignedData = [xs, usage.series.map((p) => Number(p.cost))];
    const traffic: uPlot.AlignedData = [xs, usage.series.map((p) => p.requests), usage.series.map((p) => p.prompt_tokens + p.completion_tokens)];
    return { spend, traffic };
  }, [usage]);

  const currency = usage?.project.currency ?? 'USD';
  const masked = usage ? `${usage.key.prefix}…${usage.key.last4}` : `${props.secret.slice(0, 12)}…`;
  const test = props.secret.startsWith('pk_test_');

  return html`<div>
    <${Topbar} where=${usage ? `${usage.project.name} · ${masked}` : 'Project'} onSignOut=${props.onSignOut}>
      <span class=${`pill ${test ? 'test' : 'live'}`}>${test ? 'test key' : 'live key'}</span>
    <//>
    <main>
      <${ErrorBox} error=${error} testid="project-error" />
      ${test
        ? html`<div class="notice">This is a test key: answers come from the gateway's built-in mock, nothing leaves the gateway and nothing is charged.</div>`
        : null}
      ${usage
        ? html`<div class="stats">
              <${Stat}
                label="Available balance"
                value=${money(usage.project.available, currency)}
                sub=${`balance ${money(usage.project.balance, currency)}`}
                testid="stat-balance"
              />
              <${Stat} label="Reserved" value=${money(usage.project.reserved, currency)} sub="held for requests in flight" testid="stat-reserved" />
              <${Stat} label=${`Spend · ${range}`} value=${money(usage.totals.cost, currency)} sub=${`key total ${money(usage.key.spent_total, currency)}`} />
              <${Stat}
                label=${`Requests · ${range}`}
                value=${int(usage.totals.requests)}
                sub=${usage.totals.errors ? `${int(usage.totals.errors)} failed` : 'none failed'}
                testid="stat-requests"
              />
              <${Stat}
                label=${`Tokens · ${range}`}
                value=${compact(usage.totals.prompt_tokens + usage.totals.completion_tokens)}
                sub=${`${compact(usage.totals.prompt_tokens)} in · ${compact(usage.totals.completion_tokens)} out`}
              />
            </div>
            <div class="grid">
              <${Card}
                class="span-8"
                title="Spend over time"
                hint=${`per ${usage.bucket_seconds >= 86_400 ? 'day' : usage.bucket_seconds >= 3600 ? `${usage.bucket_seconds / 3600} h` : 'minute'}`}
                actions=${html`<${Tabs} label="Period" value=${range} options=${RANGES} onChange=${setRange} />`}
                testid="spend-card"
              >
                <${Chart}
                  data=${chart!.spend}
                  step=${usage.bucket_seconds}
                  height=${190}
                  series=${[{ label: 'Spend', color: COLORS.spend, kind: 'bars', format: (v: number) => money(v, currency) }]}
                  axes=${[{ scale: 'y', format: (v: number) => money(v, currency) }]}
                />
                <div style=${{ marginTop: '12px' }}>
                  <${Chart}
                    data=${chart!.traffic}
                    height=${150}
                    series=${[
                      { label: 'Requests', color: COLORS.requests, kind: 'area', format: int },
                      { label: 'Tokens', color: COLORS.completion, kind: 'line', scale: 'tok', format: compact },
                    ]}
                    axes=${[
                      { scale: 'y', format: compact },
                      { scale: 'tok', format: compact, side: 1 },
                    ]}
                  />
                </div>
              <//>
              <${Card} class="span-4" title="By model" hint=${`requests and tokens · ${range}`}>
                <${ByModel} usage=${usage} />
              <//>
              <${Card} class="span-5" title="Your API key" testid="key-card">
                <dl class="facts">
                  <dt>Key id</dt>
                  <dd class="mono" data-testid="key-id">${usage.key.id}</dd>
                  <dt>Key</dt>
                  <dd class="mono" data-testid="key-prefix">${masked}</dd>
                  <dt>Name</dt>
                  <dd>${usage.key.name || '–'}</dd>
                  <dt>Mode</dt>
                  <dd><span class=${`pill ${usage.key.mode === 'test' ? 'test' : 'live'}`}>${usage.key.mode}</span></dd>
                  <dt>Spend limit</dt>
                  <dd>
                    ${usage.key.spend_limit === null
                      ? 'none'
                      : `${money(usage.key.spent, currency)} of ${money(usage.key.spend_limit, currency)} (${usage.key.spend_limit_period})`}
                  </dd>
                  <dt>Expires</dt>
                  <dd>${usage.key.expires_at ? new Date(usage.key.expires_at).toLocaleString() : 'never'}</dd>
                  <dt>Project</dt>
                  <dd>${usage.project.name} <span class="mono muted">${usage.project.id}</span></dd>
                </dl>
                <div class="row" style=${{ marginTop: '10px' }}>
                  <${CopyButton} text=${usage.key.id} label="Copy key id" />
                  <span class="muted" style=${{ fontSize: '12.5px' }}>Balance API: <code>GET /api/balance/${usage.key.id}</code></span>
                </div>
              <//>
              <${Card} class="span-7" title="Quick start" hint="with this gateway's base URL">
                <${QuickStart} secret=${props.secret} masked=${masked} model=${models.includes('gpt-4o-mini') ? 'gpt-4o-mini' : (models[0] ?? 'gpt-4o-mini')} />
              <//>
            </div>`
        : error
          ? null
          : html`<p class="muted">Loading…</p>`}
      <div class="grid" style=${{ marginTop: '16px' }}>
        <${Card} class="span-12" title="Playground" hint="Try the API from the browser: the answer streams live; tokens and cost are shown per call.">
          <${Playground} secret=${props.secret} currency=${currency} onCall=${load} onModels=${setModels} />
        <//>
        ${usage
          ? html`<${Card} class="span-12" title="Recent requests" hint="the last 20 of this project">
              <${Recent} usage=${usage} />
            <//>`
          : null}
      </div>
    </main>
  </div>`;
}
