// The console's admin actions, each one GraphQL mutation: create a project,
// issue a key (its secret shown once), credit a balance, add an upstream key,
// set a project's model permissions.
import { plainError } from '../lib/errors.js';
import { gql } from '../lib/graphql.js';
import { money } from '../lib/format.js';
import { type ComponentChildren, html, useEffect, useState } from '../lib/html.js';
import { CopyButton, ErrorBox, Tabs } from '../lib/ui.js';
import {
  ADD_UPSTREAM_KEY,
  CREATE_API_KEY,
  CREATE_PROJECT,
  CREDIT_BALANCE,
  type ModelItem,
  PROVIDER_CHOICES,
  type ProjectItem,
  type ProviderChoice,
  SET_PERMISSIONS,
} from './queries.js';

export type ActionTab = 'project' | 'key' | 'credit' | 'upstream' | 'models';
const TABS: { value: ActionTab; label: string }[] = [
  { value: 'project', label: 'New project' },
  { value: 'key', label: 'Issue key' },
  { value: 'credit', label: 'Credit balance' },
  { value: 'upstream', label: 'Upstream key' },
  { value: 'models', label: 'Model permissions' },
];

interface FormsProps {
  token: string;
  projects: ProjectItem[];
  models: ModelItem[];
  tab: ActionTab;
  projectId: string;
  onTab: (tab: ActionTab) => void;
  onProject: (id: string) => void;
  /** After a change: reload the console's data. */
  onChanged: () => Promise<void> | void;
}

const text = (form: HTMLFormElement, name: string): string => String(new FormData(form).get(name) ?? '').trim();

/** Submit handling shared by every form: busy state, plain-word errors, a success line. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<ComponentChildren>(null);
  const run = async (what: string, action: () => Promise<ComponentChildren>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await action());
    } catch (err) {
      setError(`Could not ${what}: ${plainError(err)}`);
    } finally {
      setBusy(false);
    }
  };
  const reset = () => {
    setError(null);
    setDone(null);
  };
  return { busy, error, done, run, reset };
}

function ProjectSelect(props: { projects: ProjectItem[]; value: string; onChange: (id: string) => void; testid: string }) {
  return html`<label class="field"
    >Project
    <select value=${props.value} onChange=${(e: Event) => props.onChange((e.target as HTMLSelectElement).value)} required data-testid=${props.testid}>
      <option value="" disabled>Choose a project…</option>
      ${props.projects.filter((p) => p.status !== 'ARCHIVED').map((p) => html`<option value=${p.id}>${p.name} (${p.id})</option>`)}
    </select>
  </label>`;
}

function NewProject(props: FormsProps) {
  const a = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const name = text(form, 'name');
    const initialBalance = text(form, 'initialBalance');
    const all = (form.elements.namedItem('allModels') as HTMLInputElement).checked;
    void a.run('create the project', async () => {
      const { createProject } = await gql<{ createProject: { id: string; name: string; balance: string } }>(props.token, CREATE_PROJECT, {
        input: { name, ...(initialBalance ? { initialBalance } : {}), ...(all ? { models: ['*'] } : {}) },
      });
      form.reset();
      await props.onChanged();
      props.onProject(createProject.id);
      return html`Created <b>${createProject.name}</b> (<span class="mono">${createProject.id}</span>) with ${money(createProject.balance)}.
        <button type="button" class="small" onClick=${() => props.onTab('key')}>Issue a key for it</button>`;
    });
  };
  return html`<form class="form" onSubmit=${submit} data-testid="form-project">
    <label class="field">Name <input name="name" required maxlength="200" placeholder="acme" /></label>
    <label class="field">Initial balance <input name="initialBalance" inputmode="decimal" pattern="\\d+(\\.\\d+)?" placeholder="10" /></label>
    <label class="check" style=${{ paddingBottom: '8px' }}><input type="checkbox" name="allModels" checked /> May use every model</label>
    <div><button class="primary" type="submit" disabled=${a.busy}>${a.busy ? 'Creating…' : 'Create project'}</button></div>
    <div class="wide">
      <${ErrorBox} error=${a.error} testid="form-error" />
      ${a.done ? html`<div class="notice" data-testid="form-done">${a.done}</div>` : null}
    </div>
  </form>`;
}

function IssueKey(props: FormsProps) {
  const a = useAction();
  const [secret, setSecret] = useState<{ secret: string; id: string; project: string } | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const mode = text(form, 'mode');
    const name = text(form, 'name');
    const spendLimit = text(form, 'spendLimit');
    const projectId = props.projectId;
    setSecret(null);
    void a.run('issue the key', async () => {
      const { createApiKey } = await gql<{ createApiKey: { secret: string; apiKey: { id: string; prefix: string } } }>(props.token, CREATE_API_KEY, {
        input: { projectId, mode, ...(name ? { name } : {}), ...(spendLimit ? { spendLimit } : {}) },
      });
      setSecret({ secret: createApiKey.secret, id: createApiKey.apiKey.id, project: props.projects.find((p) => p.id === projectId)?.name ?? projectId });
      (form.elements.namedItem('name') as HTMLInputElement).value = '';
      await props.onChanged();
      return null;
    });
  };
  return html`<div>
    <form class="form" onSubmit=${submit} data-testid="form-key">
      <${ProjectSelect} projects=${props.projects} value=${props.projectId} onChange=${props.onProject} testid="key-project" />
      <label class="field"
        >Mode
        <select name="mode" data-testid="key-mode">
          <option value="TEST">test (mock, never charged)</option>
          <option value="LIVE">live (real providers, charged)</option>
        </select>
      </label>
      <label class="field">Name <input name="name" maxlength="200" placeholder="ci" data-testid="key-name" /></label>
      <label class="field">Spend limit (optional) <input name="spendLimit" inputmode="decimal" pattern="\\d+(\\.\\d+)?" placeholder="none" /></label>
      <div><button class="primary" type="submit" disabled=${a.busy || !props.projectId} data-testid="key-submit">${a.busy ? 'Issuing…' : 'Issue key'}</button></div>
      <div class="wide"><${ErrorBox} error=${a.error} testid="form-error" /></div>
    </form>
    ${secret
      ? html`<div class="secret" data-testid="new-secret">
          <div style=${{ flexBasis: '100%' }}>
            <b>New key for ${secret.project}</b> · id <span class="mono">${secret.id}</span><br />
            <span class="muted">Copy it now: this is the only time it is shown. The gateway keeps only its hash.</span>
          </div>
          <code data-testid="new-secret-value">${secret.secret}</code>
          <${CopyButton} text=${secret.secret} label="Copy key" testid="copy-secret" />
          <button type="button" class="small" onClick=${() => setSecret(null)}>I saved it, hide</button>
        </div>`
      : null}
  </div>`;
}

function Credit(props: FormsProps) {
  const a = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const amount = text(form, 'amount');
    const reason = text(form, 'reason') || 'top-up';
    const projectId = props.projectId;
    void a.run('credit the balance', async () => {
      const { creditBalance } = await gql<{ creditBalance: { balance: string } }>(props.token, CREDIT_BALANCE, { projectId, amount, reason });
      (form.elements.namedItem('amount') as HTMLInputElement).value = '';
      await props.onChanged();
      const project = props.projects.find((p) => p.id === projectId);
      return html`Credited ${money(amount, project?.currency)}. ${project?.name ?? projectId} now has ${money(creditBalance.balance, project?.currency)}.`;
    });
  };
  return html`<form class="form" onSubmit=${submit} data-testid="form-credit">
    <${ProjectSelect} projects=${props.projects} value=${props.projectId} onChange=${props.onProject} testid="credit-project" />
    <label class="field">Amount <input name="amount" required inputmode="decimal" pattern="\\d+(\\.\\d+)?" placeholder="25" data-testid="credit-amount" /></label>
    <label class="field">Reason <input name="reason" maxlength="500" placeholder="top-up" /></label>
    <div><button class="primary" type="submit" disabled=${a.busy || !props.projectId} data-testid="credit-submit">${a.busy ? 'Crediting…' : 'Credit'}</button></div>
    <div class="wide">
      <${ErrorBox} error=${a.error} testid="form-error" />
      ${a.done ? html`<div class="notice" data-testid="form-done">${a.done}</div>` : null}
    </div>
  </form>`;
}

function UpstreamKey(props: FormsProps) {
  const a = useAction();
  // The choices are the gateway's registry, asked once. A provider only old
  // keys still name has neither a default base URL nor a required one: not offered.
  const [providers, setProviders] = useState<ProviderChoice[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [chosen, setChosen] = useState('');
  useEffect(() => {
    gql<{ providers: ProviderChoice[] }>(props.token, PROVIDER_CHOICES)
      .then(({ providers: all }) => setProviders(all.filter((p) => p.defaultBaseUrl !== null || p.baseUrlRequired)))
      .catch((err: unknown) => setLoadError(`Could not list the providers: ${plainError(err)}`));
  }, [props.token]);
  const choice = providers.find((p) => p.provider === chosen) ?? providers[0];
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const input: Record<string, unknown> = {
      provider: text(form, 'provider'),
      label: text(form, 'label'),
      secret: text(form, 'secret'),
      weight: Number(text(form, 'weight') || '1'),
      priority: Number(text(form, 'priority') || '0'),
    };
    const baseUrl = text(form, 'baseUrl');
    if (baseUrl) input.baseUrl = baseUrl;
    void a.run('add the upstream key', async () => {
      const { addUpstreamKey } = await gql<{ addUpstreamKey: { id: string; label: string; provider: string } }>(props.token, ADD_UPSTREAM_KEY, { input });
      form.reset();
      setChosen('');
      await props.onChanged();
      return html`Added <b>${addUpstreamKey.label}</b> (${addUpstreamKey.provider}, <span class="mono">${addUpstreamKey.id}</span>). Its secret is stored encrypted and never shown again.`;
    });
  };
  return html`<form class="form" onSubmit=${submit} data-testid="form-upstream">
    <label class="field"
      >Provider
      <select name="provider" onChange=${(e: Event) => setChosen((e.currentTarget as HTMLSelectElement).value)}>
        ${providers.map((p) => html`<option value=${p.provider}>${p.displayName}</option>`)}
      </select>
    </label>
    <label class="field">Label <input name="label" required maxlength="200" placeholder=${`${choice?.provider ?? 'provider'}-1`} /></label>
    <label class="field">Secret <input name="secret" type="password" required autocomplete="off" placeholder="sk-…" /></label>
    <label class="field"
      >Base URL ${choice?.baseUrlRequired ? '(required)' : '(optional)'}
      <input name="baseUrl" type="url" required=${choice?.baseUrlRequired ?? false} placeholder=${choice?.defaultBaseUrl ?? 'https://…/v1'}
    /></label>
    <label class="field">Weight <input name="weight" type="number" min="1" step="1" value="1" /></label>
    <label class="field">Priority <input name="priority" type="number" min="0" step="1" value="0" /></label>
    <div><button class="primary" type="submit" disabled=${a.busy}>${a.busy ? 'Adding…' : 'Add upstream key'}</button></div>
    <div class="wide">
      <${ErrorBox} error=${loadError ?? a.error} testid="form-error" />
      ${a.done ? html`<div class="notice" data-testid="form-done">${a.done}</div>` : null}
    </div>
  </form>`;
}

function Permissions(props: FormsProps) {
  const a = useAction();
  const project = props.projects.find((p) => p.id === props.projectId);
  const [all, setAll] = useState(false);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  // The boxes follow the project's saved permissions; a message stays until another project is picked.
  useEffect(() => {
    setAll(project?.allModels ?? false);
    setChosen(new Set((project?.permissions ?? []).map((p) => p.modelId).filter((m) => m !== '*')));
  }, [props.projectId, project?.allModels, (project?.permissions ?? []).map((p) => p.modelId).join(',')]);
  useEffect(() => a.reset(), [props.projectId]);

  const toggle = (id: string) => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChosen(next);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const models = all ? ['*'] : [...chosen].sort();
    const projectId = props.projectId;
    void a.run('set the model permissions', async () => {
      await gql(props.token, SET_PERMISSIONS, { projectId, models });
      await props.onChanged();
      return all ? 'This project may now use every model.' : models.length ? `This project may now use ${models.length} model${models.length === 1 ? '' : 's'}.` : 'This project may now use no model.';
    });
  };
  return html`<form onSubmit=${submit} data-testid="form-models" style=${{ display: 'flex', flexDirection: 'column', gap: '10px' }}>
    <div class="form"><${ProjectSelect} projects=${props.projects} value=${props.projectId} onChange=${props.onProject} testid="models-project" /></div>
    <label class="check"><input type="checkbox" checked=${all} onChange=${(e: Event) => setAll((e.target as HTMLInputElement).checked)} /> Every model, including ones added later (*)</label>
    <div class="checks" style=${{ opacity: all ? 0.5 : 1 }}>
      ${props.models.map(
        (m) => html`<label class="check">
          <input type="checkbox" disabled=${all} checked=${all || chosen.has(m.id)} onChange=${() => toggle(m.id)} />
          <span>${m.id}${m.kind === 'EMBEDDING' ? html` <span class="muted">(embeddings)</span>` : null}</span>
        </label>`,
      )}
    </div>
    <div><button class="primary" type="submit" disabled=${a.busy || !props.projectId}>${a.busy ? 'Saving…' : 'Save permissions'}</button></div>
    <${ErrorBox} error=${a.error} testid="form-error" />
    ${a.done ? html`<div class="notice" data-testid="form-done">${a.done}</div>` : null}
  </form>`;
}

export function Actions(props: FormsProps) {
  const body = { project: NewProject, key: IssueKey, credit: Credit, upstream: UpstreamKey, models: Permissions }[props.tab];
  return html`<div>
    <div style=${{ marginBottom: '12px' }}><${Tabs} label="Action" value=${props.tab} options=${TABS} onChange=${props.onTab} /></div>
    <${body} ...${props} />
  </div>`;
}
