import { type ComponentChildren, html, useEffect, useState } from './html.js';

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable (no focus, insecure origin): fall back to a selection copy.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

export function CopyButton(props: { text: string | (() => string); label?: string; class?: string; testid?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 1800);
    return () => clearTimeout(t);
  }, [state]);
  const onClick = async () => {
    const ok = await copyText(typeof props.text === 'function' ? props.text() : props.text);
    setState(ok ? 'copied' : 'failed');
  };
  const label = state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy by hand' : (props.label ?? 'Copy');
  return html`<button type="button" class=${`small ${props.class ?? ''}`} onClick=${onClick} data-testid=${props.testid}>${label}</button>`;
}

export function ErrorBox(props: { error: string | null | undefined; testid?: string }) {
  if (!props.error) return null;
  return html`<div class="error" role="alert" data-testid=${props.testid ?? 'error'}>${props.error}</div>`;
}

export function Tabs<T extends string>(props: { value: T; options: readonly T[] | readonly { value: T; label: string }[]; onChange: (v: T) => void; label: string }) {
  return html`<div class="tabs" role="group" aria-label=${props.label}>
    ${props.options.map((o) => {
      const value = (typeof o === 'string' ? o : o.value) as T;
      const label = typeof o === 'string' ? o : o.label;
      return html`<button type="button" aria-pressed=${String(value === props.value)} onClick=${() => props.onChange(value)}>${label}</button>`;
    })}
  </div>`;
}

export function Stat(props: { label: string; value: ComponentChildren; sub?: ComponentChildren; testid?: string }) {
  return html`<div class="stat" data-testid=${props.testid}>
    <div class="label">${props.label}</div>
    <div class="value">${props.value}</div>
    ${props.sub ? html`<div class="sub">${props.sub}</div>` : null}
  </div>`;
}

export function Card(props: { title: ComponentChildren; hint?: ComponentChildren; actions?: ComponentChildren; class?: string; children?: ComponentChildren; testid?: string }) {
  return html`<section class=${`card ${props.class ?? ''}`} data-testid=${props.testid}>
    <div class="card-head">
      <div>
        <h2>${props.title}</h2>
        ${props.hint ? html`<div class="hint">${props.hint}</div>` : null}
      </div>
      ${props.actions ?? null}
    </div>
    ${props.children}
  </section>`;
}

/** Re-renders every `ms` (relative times, live windows). */
export function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
  return tick;
}

export function Topbar(props: { where: ComponentChildren; onSignOut: () => void; children?: ComponentChildren }) {
  return html`<header class="topbar">
    <div class="brand"><img src="/favicon.svg" alt="" />LLM Gateway</div>
    <div class="where">${props.where}</div>
    <div class="spacer"></div>
    ${props.children}
    <button type="button" class="small" onClick=${props.onSignOut} data-testid="sign-out">Sign out</button>
  </header>`;
}
