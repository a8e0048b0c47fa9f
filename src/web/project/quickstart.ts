import { html, useState } from '../lib/html.js';
import { CopyButton, Tabs } from '../lib/ui.js';

const LANGS = ['curl', 'Python', 'Node'] as const;
type Lang = (typeof LANGS)[number];

function snippet(lang: Lang, baseUrl: string, key: string, model: string): string {
  switch (lang) {
    case 'curl':
      return `curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer ${key}" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "${model}",
    "messages": [{"role": "user", "content": "Hello!"}],
    "stream": true
  }'`;
    case 'Python':
      return `from openai import OpenAI

client = OpenAI(
    base_url="${baseUrl}",
    api_key="${key}",
)

stream = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hello!"}],
    stream=True,
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="")`;
    case 'Node':
      return `import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: '${baseUrl}',
  apiKey: '${key}',
});

const response = await client.chat.completions.create({
  model: '${model}',
  messages: [{ role: 'user', content: 'Hello!' }],
});
console.log(response.choices[0].message.content);`;
  }
}

/**
 * Ready-to-run snippets for this gateway's base URL. The key is shown masked;
 * the copy button puts the full key (already in this tab) into the snippet.
 */
export function QuickStart(props: { secret: string; masked: string; model: string }) {
  const [lang, setLang] = useState<Lang>('curl');
  const baseUrl = `${location.origin}/v1`;
  return html`<div>
    <div class="row" style=${{ justifyContent: 'space-between', marginBottom: '10px' }}>
      <${Tabs} label="Language" value=${lang} options=${LANGS} onChange=${setLang} />
      <${CopyButton} label="Copy with your key" text=${() => snippet(lang, baseUrl, props.secret, props.model)} testid="copy-snippet" />
    </div>
    <div class="muted mono" style=${{ marginBottom: '8px', overflowWrap: 'anywhere' }} data-testid="base-url">Base URL: ${baseUrl}</div>
    <pre class="code" data-testid="snippet">${snippet(lang, baseUrl, props.masked, props.model)}</pre>
    <p class="muted" style=${{ margin: '8px 0 0', fontSize: '12.5px' }}>
      Any OpenAI SDK works: change only the base URL and the API key. The key can also go in an <code>X-API-Key</code> header.
    </p>
  </div>`;
}
