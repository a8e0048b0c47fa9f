// The console's Requests page: filter the requests the gateway served and
// open one to see where its time went (phases as bars), each upstream
// attempt with its outcome and error, tokens, cost, the trace id, and the
// captured payload when its project captures them (admin tokens only).
import { ApiError, plainError } from '../lib/errors.js';
import { int, money, ms } from '../lib/format.js';
import { GraphQLError, gql } from '../lib/graphql.js';
import { html, useCallback, useEffect, useState } from '../lib/html.js';
import { Card, CopyButton, ErrorBox } from '../lib/ui.js';

interface ProjectName {
  id: string;
  name: string;
  currency: string;
}

interface Attempt {
  number: number;
  provider: string;
  model: string;
  upstreamModel: string | null;
  upstreamKeyId: string | null;
  upstreamKeyLabel: string | null;
  outcome: string;
  upstreamStatus: number | null;
  errorMessage: string | null;
  durationMs: number | null;
  startedAt: string | null;
  inferred: boolean;
}

interface Phases {
  admissionMs: number | null;
  reservationWaitMs: number | null;
  ttfbMs: number | null;
  latencyMs: number | null;
  totalMs: number | null;
}

export interface RequestItem {
  id: string;
  projectId: string;
  apiKeyId: string;
  door: string;
  model: string;
  status: string;
  httpStatus: number | null;
  errorCode: string | null;
  stream: boolean;
  test: boolean;
  cost: string;
  reservedCost: string;
  traceId: string | null;
  createdAt: string;
  settledAt: string | null;
  attempts: Attempt[];
  phases: Phases;
  tokens: { input: number; cached: number; cacheWrite5m: number; cacheWrite1h: number; output: number; reasoning: number };
  prices: { input: string; output: string; cachedInput: string; cacheWrite5m: string; cacheWrite1h: string };
}

const FIELDS = /* GraphQL */ `
  id projectId apiKeyId door model status httpStatus errorCode stream test cost reservedCost traceId createdAt settledAt
  attempts { number provider model upstreamModel upstreamKeyId upstreamKeyLabel outcome upstreamStatus errorMessage durationMs startedAt inferred }
  phases { admissionMs reservationWaitMs ttfbMs latencyMs totalMs }
  tokens { input cached cacheWrite5m cacheWrite1h output reasoning }
  prices { input output cachedInput cacheWrite5m cacheWrite1h }
`;

const LIST_QUERY = /* GraphQL */ `
  query Requests($filter: RequestFilter, $after: String) {
    requests(filter: $filter, first: 50, after: $after) { nodes { ${FIELDS} } pageInfo { hasNextPage endCursor } }
  }
`;
const PROJECTS_QUERY = /* GraphQL */ `query RequestProjects { projects(first: 200) { nodes { id name currency } } }`;
const PAYLOAD_QUERY = /* GraphQL */ `query RequestPayload($id: ID!) { request(id: $id) { id payload { request response capturedAt } } }`;

const DOORS = ['CHAT', 'EMBEDDINGS', 'RESPONSES', 'MESSAGES', 'GENERATE_CONTENT', 'EMBED_CONTENT'] as const;
const STATUSES = ['OK', 'ERROR', 'ABORTED', 'REJECTED', 'RESERVED'] as const;

interface Filter {
  projectId: string;
  model: string;
  door: string;
  status: string;
  from: string;
  to: string;
  minDurationMs: string;
}

const EMPTY: Filter = { projectId: '', model: '', door: '', status: '', from: '', to: '', minDurationMs: '' };

/** The form's values as the GraphQL filter: empty fields are left out. */
export function toFilter(f: Filter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.projectId) out.projectId = f.projectId;
  if (f.model.trim()) out.model = f.model.trim();
  if (f.door) out.door = f.door;
  if (f.status) out.status = [f.status];
  // datetime-local has no zone: it is the operator's local time.
  if (f.from) out.from = new Date(f.from).toISOString();
  if (f.to) out.to = new Date(f.to).toISOString();
  if (f.minDurationMs.trim()) out.minDurationMs = Number(f.minDurationMs);
  return out;
}

const dateTime = (iso: string) => new Date(iso).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
const doorName = (door: string) => door.toLowerCase().replace('_', ' ');
const outcomeClass = (outcome: string) => (outcome === 'OK' ? 'ok' : outcome === 'CANCELLED' ? 'aborted' : 'error');

const PHASES: Array<{ key: keyof Phases; label: string; color: string; hint: string }> = [
  { key: 'admissionMs', label: 'Admission', color: '#6366f1', hint: 'arrival → reservation held (auth, validation, permission, rate limit, reserve)' },
  { key: 'reservationWaitMs', label: 'Reservation wait', color: '#f59e0b', hint: 'reservation row written → first upstream attempt (known when attempts were logged)' },
  { key: 'ttfbMs', label: 'Time to first byte', color: '#0ea5e9', hint: 'reservation → first byte to the client (first token of a stream)' },
  { key: 'totalMs', label: 'Total', color: '#0e9f6e', hint: 'arrival → close' },
];

function Timeline(props: { phases: Phases }) {
  const scale = Math.max(1, ...PHASES.map((p) => props.phases[p.key] ?? 0));
  // Phases after admission start when it ends; total starts at arrival.
  const offset = (key: keyof Phases) => (key === 'ttfbMs' || key === 'reservationWaitMs' ? (props.phases.admissionMs ?? 0) : 0);
  return html`<div class="bars" data-testid="timeline">
    ${PHASES.map((p) => {
      const value = props.phases[p.key];
      const left = (offset(p.key) / scale) * 100;
      const width = value === null ? 0 : Math.max(0.5, (value / scale) * 100);
      return html`<div class="bar-row" data-testid="phase" data-phase=${p.key} title=${p.hint}>
        <div class="bar-top"><span class="name">${p.label}</span><span class="nums" data-testid="phase-value">${value === null ? 'not known' : ms(value)}</span></div>
        <div class="bar-track">
          <div class="seg" style=${{ width: `${Math.min(left, 100 - width)}%` }}></div>
          <div class="seg" style=${{ width: `${width}%`, background: p.color }} data-testid="phase-bar"></div>
        </div>
      </div>`;
    })}
  </div>`;
}

function Attempts(props: { attempts: Attempt[] }) {
  if (props.attempts.length === 0) return html`<p class="muted" data-testid="no-attempts">No upstream attempt: refused before any call.</p>`;
  return html`<div class="table-wrap">
    <table class="stack" data-testid="attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Upstream</th>
          <th>Outcome</th>
          <th class="num">Status</th>
          <th class="num">Duration</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        ${props.attempts.map(
          (a) => html`<tr data-testid="attempt-row" data-outcome=${a.outcome}>
            <td data-label="#">${a.number}</td>
            <td class="lead" data-label="Upstream">
              <b>${a.upstreamKeyLabel ?? (a.upstreamKeyId ? a.upstreamKeyId : a.provider)}</b>
              <span class="sub-line mono">${a.provider}/${a.upstreamModel ?? a.model}${a.inferred ? ' · from the route' : ''}</span>
            </td>
            <td data-label="Outcome"><span class=${`pill ${outcomeClass(a.outcome)}`}>${a.outcome.toLowerCase().replace('_', ' ')}</span></td>
            <td class="num" data-label="Status">${a.upstreamStatus ?? '–'}</td>
            <td class="num" data-label="Duration">${ms(a.durationMs)}</td>
            <td data-label="Error" data-testid="attempt-error">${a.errorMessage ?? ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

type PayloadState = { kind: 'loading' } | { kind: 'none' } | { kind: 'forbidden'; message: string } | { kind: 'error'; message: string } | { kind: 'shown'; request: string; response: string | null };

const pretty = (text: string) => {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};

function Payload(props: { token: string; id: string }) {
  const [state, setState] = useState<PayloadState>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    setState({ kind: 'loading' });
    gql<{ request: { payload: { request: string; response: string | null } | null } | null }>(props.token, PAYLOAD_QUERY, { id: props.id })
      .then((data) => {
        if (!live) return;
        const p = data.request?.payload;
        setState(p ? { kind: 'shown', request: p.request, response: p.response } : { kind: 'none' });
      })
      .catch((err: unknown) => {
        if (!live) return;
        // A viewer's token: the API refuses the field with FORBIDDEN (lib/graphql.ts turns it into a 401 ApiError).
        const refused = (err instanceof GraphQLError && err.code === 'FORBIDDEN') || (err instanceof ApiError && err.type === 'FORBIDDEN');
        setState(refused ? { kind: 'forbidden', message: plainError(err) } : { kind: 'error', message: plainError(err) });
      });
    return () => {
      live = false;
    };
  }, [props.token, props.id]);
  if (state.kind === 'loading') return html`<p class="muted">Loading the payload…</p>`;
  if (state.kind === 'none') return html`<p class="muted" data-testid="payload-none">Not captured: its project does not capture payloads (or it is past PAYLOAD_RETENTION_DAYS).</p>`;
  if (state.kind === 'forbidden') return html`<p class="muted" data-testid="payload-forbidden">Payloads are shown to admin tokens only.</p>`;
  if (state.kind === 'error') return html`<${ErrorBox} error=${state.message} testid="payload-error" />`;
  return html`<div>
    <h3>Request</h3>
    <pre class="code-wrap mono" data-testid="payload-request" style=${{ maxHeight: '260px', overflow: 'auto', whiteSpace: 'pre-wrap' }}>${pretty(state.request)}</pre>
    <h3>Response</h3>
    ${state.response === null
      ? html`<p class="muted">No answer stored (embeddings keep their inputs only; failed requests have none).</p>`
      : html`<pre class="code-wrap mono" data-testid="payload-response" style=${{ maxHeight: '260px', overflow: 'auto', whiteSpace: 'pre-wrap' }}>${pretty(state.response)}</pre>`}
  </div>`;
}

function Detail(props: { token: string; request: RequestItem; projectName: string; currency: string; onClose: () => void }) {
  const r = props.request;
  const t = r.tokens;
  return html`<${Card}
    class="span-12"
    title=${html`Request <span class="mono" data-testid="detail-id">${r.id}</span>`}
    hint=${`${props.projectName} · ${doorName(r.door)} · ${r.model} · ${dateTime(r.createdAt)}`}
    actions=${html`<button type="button" class="small" onClick=${props.onClose} data-testid="detail-close">Close</button>`}
    testid="request-detail"
  >
    <div class="row" style=${{ gap: '8px', marginBottom: '12px', flexWrap: 'wrap' }}>
      <span class=${`pill ${r.status.toLowerCase()}`} data-testid="detail-status">${r.status.toLowerCase()}</span>
      ${r.httpStatus !== null ? html`<span class="pill" data-testid="detail-http">HTTP ${r.httpStatus}</span>` : null}
      ${r.errorCode ? html`<span class="pill error">${r.errorCode}</span>` : null}
      ${r.stream ? html`<span class="pill">stream</span>` : null}
      ${r.test ? html`<span class="pill test">test key</span>` : null}
    </div>
    <div class="grid">
      <div class="span-6">
        <h3>Timeline</h3>
        <${Timeline} phases=${r.phases} />
      </div>
      <div class="span-6">
        <h3>Tokens and cost</h3>
        <table class="stack" data-testid="detail-tokens">
          <tbody>
            <tr><td>Input</td><td class="num">${int(t.input)}</td><td class="num muted">${money(r.prices.input, props.currency)} / 1M</td></tr>
            <tr><td>· cached</td><td class="num">${int(t.cached)}</td><td class="num muted">${money(r.prices.cachedInput, props.currency)} / 1M</td></tr>
            <tr><td>· cache write 5m / 1h</td><td class="num">${int(t.cacheWrite5m)} / ${int(t.cacheWrite1h)}</td><td class="num muted">${money(r.prices.cacheWrite5m, props.currency)} / ${money(r.prices.cacheWrite1h, props.currency)}</td></tr>
            <tr><td>Output</td><td class="num">${int(t.output)}</td><td class="num muted">${money(r.prices.output, props.currency)} / 1M</td></tr>
            <tr><td>· reasoning</td><td class="num">${int(t.reasoning)}</td><td></td></tr>
            <tr><td><b>Cost</b></td><td class="num" data-testid="detail-cost"><b>${money(r.cost, props.currency)}</b></td><td class="num muted">${money(r.reservedCost, props.currency)} reserved</td></tr>
          </tbody>
        </table>
        <p class="muted" style=${{ marginTop: '8px' }}>
          Trace id:${' '}
          ${r.traceId ? html`<span class="mono" data-testid="detail-trace">${r.traceId}</span> <${CopyButton} text=${r.traceId} label="Copy" />` : html`<span data-testid="detail-trace">none (tracing off and no traceparent)</span>`}
        </p>
      </div>
    </div>
    <h3>Attempts</h3>
    <${Attempts} attempts=${r.attempts} />
    <h3>Payload</h3>
    <${Payload} token=${props.token} id=${r.id} />
  <//>`;
}

export default function RequestsPage(props: { token: string }) {
  const [projects, setProjects] = useState<ProjectName[]>([]);
  const [form, setForm] = useState<Filter>(EMPTY);
  const [applied, setApplied] = useState<Filter>(EMPTY);
  const [rows, setRows] = useState<RequestItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<RequestItem | null>(null);

  useEffect(() => {
    gql<{ projects: { nodes: ProjectName[] } }>(props.token, PROJECTS_QUERY)
      .then((d) => setProjects(d.projects.nodes))
      .catch(() => {});
  }, [props.token]);

  const load = useCallback(
    async (filter: Filter, after: string | null) => {
      setBusy(true);
      try {
        const data = await gql<{ requests: { nodes: RequestItem[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(props.token, LIST_QUERY, {
          filter: toFilter(filter),
          after,
        });
        setRows((list) => (after ? [...list, ...data.requests.nodes] : data.requests.nodes));
        setCursor(data.requests.pageInfo.hasNextPage ? data.requests.pageInfo.endCursor : null);
        setError(null);
      } catch (err) {
        setError(`Could not load requests: ${plainError(err)}`);
      } finally {
        setBusy(false);
      }
    },
    [props.token],
  );

  useEffect(() => {
    void load(applied, null);
  }, [applied, load]);

  const names = new Map(projects.map((p) => [p.id, p]));
  const set = (key: keyof Filter) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    setOpen(null);
    setApplied({ ...form });
  };

  return html`<div class="grid" data-testid="requests-page">
    <${Card} class="span-12" title="Requests" hint="newest first; open one for its timeline, attempts and payload" testid="requests-card">
      <form class="form" onSubmit=${submit} data-testid="requests-filter" style=${{ display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'end' }}>
        <label class="field"
          >Project
          <select value=${form.projectId} onChange=${set('projectId')} data-testid="filter-project">
            <option value="">all</option>
            ${projects.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
          </select>
        </label>
        <label class="field">Model <input value=${form.model} onInput=${set('model')} placeholder="any" data-testid="filter-model" /></label>
        <label class="field"
          >Door
          <select value=${form.door} onChange=${set('door')} data-testid="filter-door">
            <option value="">all</option>
            ${DOORS.map((d) => html`<option value=${d}>${doorName(d)}</option>`)}
          </select>
        </label>
        <label class="field"
          >Status
          <select value=${form.status} onChange=${set('status')} data-testid="filter-status">
            <option value="">all</option>
            ${STATUSES.map((s) => html`<option value=${s}>${s.toLowerCase()}</option>`)}
          </select>
        </label>
        <label class="field">From <input type="datetime-local" step="1" value=${form.from} onInput=${set('from')} data-testid="filter-from" /></label>
        <label class="field">To <input type="datetime-local" step="1" value=${form.to} onInput=${set('to')} data-testid="filter-to" /></label>
        <label class="field">Min duration (ms) <input type="number" min="0" step="1" value=${form.minDurationMs} onInput=${set('minDurationMs')} placeholder="0" data-testid="filter-min-duration" /></label>
        <button class="primary" type="submit" disabled=${busy} data-testid="filter-apply">${busy ? 'Loading…' : 'Apply'}</button>
      </form>
      <${ErrorBox} error=${error} testid="requests-error" />
      ${rows.length === 0
        ? html`<p class="muted" data-testid="requests-empty">${busy ? 'Loading…' : 'No request matches.'}</p>`
        : html`<div class="table-wrap">
            <table class="stack" data-testid="requests">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Request</th>
                  <th>Status</th>
                  <th class="num">Attempts</th>
                  <th class="num">Duration</th>
                  <th class="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map((r) => {
                  const project = names.get(r.projectId);
                  return html`<tr data-testid="request-row" data-request-id=${r.id} onClick=${() => setOpen(r)} style=${{ cursor: 'pointer' }} class=${open?.id === r.id ? 'selected' : ''}>
                    <td data-label="Time">${dateTime(r.createdAt)}</td>
                    <td class="lead" data-label="Request">
                      <b>${r.model || '(no model)'}</b><span class="sub-line">${project?.name ?? r.projectId} · ${doorName(r.door)}${r.stream ? ' · stream' : ''}</span>
                    </td>
                    <td data-label="Status"><span class=${`pill ${r.status.toLowerCase()}`}>${r.status.toLowerCase()}</span> ${r.httpStatus ?? ''}</td>
                    <td class="num" data-label="Attempts">${r.attempts.length}</td>
                    <td class="num" data-label="Duration">${ms(r.phases.totalMs ?? r.phases.latencyMs)}</td>
                    <td class="num" data-label="Cost">${money(r.cost, project?.currency ?? 'USD')}</td>
                  </tr>`;
                })}
              </tbody>
            </table>
          </div>`}
      ${cursor ? html`<button type="button" class="small" onClick=${() => void load(applied, cursor)} disabled=${busy} data-testid="requests-more">Load more</button>` : null}
    <//>
    ${open
      ? html`<${Detail}
          token=${props.token}
          request=${open}
          projectName=${names.get(open.projectId)?.name ?? open.projectId}
          currency=${names.get(open.projectId)?.currency ?? 'USD'}
          onClose=${() => setOpen(null)}
        />`
      : null}
  </div>`;
}
