// The live half of the console: per-second windows of the usage
// subscription (requests, tokens, spend) and the feed of the latest events.
import type uPlot from 'uplot';
import { Chart } from '../lib/chart.js';
import { compact, int, money, time } from '../lib/format.js';
import { html, useMemo } from '../lib/html.js';
import type { UsageEventItem } from './queries.js';

export const WINDOW_SECONDS = 120;

export interface Second {
  requests: number;
  tokens: number;
  cost: number;
}

export interface FeedItem extends UsageEventItem {
  receivedAt: number;
}

/** Adds one event to its second (by arrival: the feed is about now). */
export function addToWindow(window: Map<number, Second>, event: UsageEventItem, nowMs: number): void {
  const second = Math.floor(nowMs / 1000);
  const slot = window.get(second) ?? { requests: 0, tokens: 0, cost: 0 };
  slot.requests += 1;
  slot.tokens += (event.promptTokens ?? 0) + (event.completionTokens ?? 0);
  // Charts only: the exact amount stays a string in the feed.
  slot.cost += Number(event.cost) || 0;
  window.set(second, slot);
  for (const key of window.keys()) if (key < second - WINDOW_SECONDS - 5) window.delete(key);
}

export function LiveCharts(props: { window: Map<number, Second>; nowSecond: number; currency: string }) {
  const data = useMemo(() => {
    const xs: number[] = [];
    const requests: number[] = [];
    const tokens: number[] = [];
    const cost: number[] = [];
    // The current second is still filling up: show up to the last whole one.
    for (let s = props.nowSecond - WINDOW_SECONDS; s < props.nowSecond; s++) {
      const slot = props.window.get(s);
      xs.push(s);
      requests.push(slot?.requests ?? 0);
      tokens.push(slot?.tokens ?? 0);
      cost.push(slot?.cost ?? 0);
    }
    return {
      requests: [xs, requests] as uPlot.AlignedData,
      tokens: [xs, tokens] as uPlot.AlignedData,
      cost: [xs, cost] as uPlot.AlignedData,
    };
  }, [props.window, props.nowSecond]);

  const chart = (title: string, d: uPlot.AlignedData, color: string, format: (v: number) => string, testid: string) =>
    html`<section class="card span-4" data-testid=${testid}>
      <div class="card-head"><h2>${title}</h2><span class="hint muted">last ${WINDOW_SECONDS / 60} min</span></div>
      <${Chart} data=${d} height=${140} clock=${true} series=${[{ label: title, color, kind: 'area', format }]} axes=${[{ scale: 'y', format }]} />
    </section>`;

  return html`<div class="grid" style=${{ marginBottom: '16px' }}>
    ${chart('Requests / s', data.requests, '#4f46e5', (v: number) => compact(v), 'chart-requests')}
    ${chart('Tokens / s', data.tokens, '#f59e0b', (v: number) => compact(v), 'chart-tokens')}
    ${chart('Spend / s', data.cost, '#0e9f6e', (v: number) => money(v, props.currency), 'chart-spend')}
  </div>`;
}

/** "1,536 cached · 1,500 written" under the prompt tokens, when the request used the prompt cache. */
export function cacheLine(e: Pick<UsageEventItem, 'cachedTokens' | 'cacheWriteTokens' | 'cacheWrite1hTokens'>) {
  const read = e.cachedTokens ?? 0;
  const write5m = e.cacheWriteTokens ?? 0;
  const write1h = e.cacheWrite1hTokens ?? 0;
  if (read + write5m + write1h === 0) return null;
  const parts = [read > 0 ? `${int(read)} cached` : '', write5m + write1h > 0 ? `${int(write5m + write1h)} written` : ''].filter(Boolean);
  return html`<span class="sub-line muted" data-testid="cache-tokens" title=${`prompt cache: ${int(read)} read, ${int(write5m)} written (5 min), ${int(write1h)} written (1 h)`}>${parts.join(' · ')}</span>`;
}

export function Feed(props: { items: FeedItem[]; projectName: (id: string | null | undefined) => string; currency: string; now: number }) {
  if (props.items.length === 0) {
    return html`<p class="muted" data-testid="feed-empty">Waiting for requests… every settled request appears here the moment it happens.</p>`;
  }
  return html`<div class="table-wrap" style=${{ maxHeight: '380px', overflowY: 'auto' }}>
    <table class="stack" data-testid="feed">
      <thead>
        <tr>
          <th>Request</th>
          <th>Status</th>
          <th class="num">Tokens in / out</th>
          <th class="num">Cost</th>
          <th class="num">Time</th>
        </tr>
      </thead>
      <tbody>
        ${props.items.map(
          (e) => html`<tr key=${e.requestId} class=${props.now - e.receivedAt < 1600 ? 'fresh' : ''} data-testid="feed-row" title=${e.requestId}>
            <td class="lead"><b>${props.projectName(e.projectId)}</b><span class="sub-line">${e.model}</span></td>
            <td data-label="Status">
              <span><span class=${`pill ${e.status.toLowerCase()}`}>${e.status.toLowerCase()}</span>${e.test ? html` <span class="pill test">test</span>` : null}</span>
            </td>
            <td class="num" data-label="Tokens in / out">${int(e.promptTokens)} / ${int(e.completionTokens)}${cacheLine(e)}</td>
            <td class="num" data-label="Cost">${money(e.cost, props.currency)}</td>
            <td class="num muted" data-label="Time">${time(e.receivedAt)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
