import { html } from '../lib/html.js';
import { Topbar } from '../lib/ui.js';

export default function ConsoleView(props: { secret: string; onSignOut: () => void }) {
  return html`<div><${Topbar} where="Operator console" onSignOut=${props.onSignOut} /><main>Coming soon</main></div>`;
}
