// Entry: the sign-in page and the two views, each view loaded on demand so the
// first paint needs only this small module. `/` is the project view, `/console`
// the operator console; the path never carries anything secret.
import { ApiError, errorFromResponse, plainError } from './lib/errors.js';
import { html, render, useEffect, useState } from './lib/html.js';
import { forgetSecret, readSecret, saveSecret, type SessionKind } from './lib/session.js';
import { ErrorBox } from './lib/ui.js';

type View = { kind: SessionKind; secret: string };
type ViewModule = { default: (props: { secret: string; onSignOut: () => void }) => unknown };

const PATHS: Record<SessionKind, string> = { project: '/', operator: '/console' };
const kindOfPath = (): SessionKind => (location.pathname.replace(/\/+$/, '') === '/console' ? 'operator' : 'project');

const loaders: Record<SessionKind, () => Promise<ViewModule>> = {
  project: () => import('./project/view.js'),
  operator: () => import('./console/view.js'),
};

/** Checks a credential before keeping it, so a typo is reported on the sign-in page. */
async function verify(kind: SessionKind, secret: string): Promise<void> {
  if (kind === 'project') {
    if (!/^pk_(live|test)_/.test(secret)) throw new Error('A project key starts with pk_live_ or pk_test_.');
    const res = await fetch('/api/usage?range=1h', { headers: { authorization: `Bearer ${secret}` }, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) throw await errorFromResponse(res);
    return;
  }
  if (/^pk_(live|test)_/.test(secret)) throw new Error('That is a project key. Sign in with it on the left; the console needs an operator token.');
  const { gql } = await import('./lib/graphql.js');
  await gql(secret, 'query SignIn { upstreamKeys { id } }');
}

function SignIn(props: { preferred: SessionKind; onSignedIn: (view: View) => void }) {
  const [busy, setBusy] = useState<SessionKind | null>(null);
  const [errors, setErrors] = useState<Partial<Record<SessionKind, string>>>({});

  const submit = (kind: SessionKind) => async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const secret = (new FormData(form).get('secret') as string | null)?.trim() ?? '';
    if (!secret) {
      setErrors({ [kind]: kind === 'project' ? 'Paste your project key first.' : 'Paste the operator token first.' });
      return;
    }
    setBusy(kind);
    setErrors({});
    try {
      await verify(kind, secret);
      saveSecret(kind, secret);
      form.reset();
      props.onSignedIn({ kind, secret });
    } catch (err) {
      const message =
        err instanceof ApiError && err.status === 401
          ? kind === 'project'
            ? `This key was not accepted: ${err.message}`
            : 'This operator token was not accepted. Check it and try again.'
          : plainError(err);
      setErrors({ [kind]: message });
    } finally {
      setBusy(null);
    }
  };

  const card = (kind: SessionKind, title: string, text: string, placeholder: string) =>
    html`<section class="card">
      <form onSubmit=${submit(kind)} data-testid=${`signin-${kind}`}>
        <h2>${title}</h2>
        <p>${text}</p>
        <label class="field"
          >${kind === 'project' ? 'Project key' : 'Operator token'}
          <input
            name="secret"
            type="password"
            autocomplete="off"
            spellcheck="false"
            placeholder=${placeholder}
            autofocus=${props.preferred === kind}
          />
        </label>
        <${ErrorBox} error=${errors[kind]} testid=${`signin-${kind}-error`} />
        <button class="primary" type="submit" disabled=${busy !== null}>${busy === kind ? 'Checking…' : 'Sign in'}</button>
      </form>
    </section>`;

  return html`<div class="signin">
    <div class="intro">
      <h1>LLM Gateway</h1>
      <p>One OpenAI-compatible endpoint for many providers. Sign in to see your usage and try the API, or to run the gateway.</p>
    </div>
    <div class="grid">
      <div class="span-6" style=${{ order: props.preferred === 'project' ? 0 : 1 }}>
        ${card('project', 'Project', 'Balance, usage, quick start and a playground for one project.', 'pk_test_… or pk_live_…')}
      </div>
      <div class="span-6" style=${{ order: props.preferred === 'operator' ? 0 : 1 }}>
        ${card('operator', 'Operator console', 'Every project, live usage, provider health and admin actions.', 'operator token')}
      </div>
    </div>
    <p class="muted" style=${{ marginTop: '16px', fontSize: '12.5px' }}>
      The key stays in this browser tab's session storage and is sent only in request headers; closing the tab or signing out forgets it.
    </p>
  </div>`;
}

function App() {
  const [view, setView] = useState<View | null>(() => {
    const kind = kindOfPath();
    const secret = readSecret(kind);
    return secret ? { kind, secret } : null;
  });
  const [preferred, setPreferred] = useState<SessionKind>(kindOfPath);
  const [module, setModule] = useState<ViewModule | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    const onPop = () => {
      const kind = kindOfPath();
      const secret = readSecret(kind);
      setPreferred(kind);
      setView(secret ? { kind, secret } : null);
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    setModule(null);
    setLoadError(null);
    if (!view) return;
    let live = true;
    loaders[view.kind]()
      .then((m) => live && setModule(m))
      .catch(() => live && setLoadError('Part of the dashboard could not be loaded. Reload the page.'));
    return () => {
      live = false;
    };
  }, [view?.kind]);

  const signedIn = (next: View) => {
    if (location.pathname !== PATHS[next.kind]) history.pushState(null, '', PATHS[next.kind]);
    setPreferred(next.kind);
    setView(next);
  };
  const signOut = () => {
    if (view) forgetSecret(view.kind);
    setView(null);
  };

  if (!view) return html`<${SignIn} preferred=${preferred} onSignedIn=${signedIn} />`;
  if (loadError) return html`<main><${ErrorBox} error=${loadError} /></main>`;
  if (!module) return html`<div class="boot">Loading…</div>`;
  const Component = module.default;
  return html`<${Component} key=${view.kind + view.secret} secret=${view.secret} onSignOut=${signOut} />`;
}

render(html`<${App} />`, document.getElementById('app')!);
