// Credentials live in sessionStorage only: gone when the tab closes, never
// in localStorage, cookies or a URL.
export type SessionKind = 'project' | 'operator';

const NAMES: Record<SessionKind, string> = { project: 'gateway.projectKey', operator: 'gateway.operatorToken' };

export function readSecret(kind: SessionKind): string | null {
  try {
    return sessionStorage.getItem(NAMES[kind]);
  } catch {
    return null;
  }
}

export function saveSecret(kind: SessionKind, value: string): void {
  try {
    sessionStorage.setItem(NAMES[kind], value);
  } catch {
    // Storage disabled: the credential lives only in this page's memory.
  }
}

export function forgetSecret(kind: SessionKind): void {
  try {
    sessionStorage.removeItem(NAMES[kind]);
  } catch {
    // nothing stored
  }
}
