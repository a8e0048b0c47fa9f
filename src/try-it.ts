import type { FirstStartResult } from './core/bootstrap/first-start.js';

/** The first start's secrets, printed once to the terminal (never to the log). */
export function printTryIt(address: string, result: FirstStartResult): void {
  if (!result.generatedAdminToken && !result.demo) return;
  const lines = ['', '  LLM gateway: first start', ''];
  if (result.generatedAdminToken) {
    lines.push(`  Operator token (shown once; GraphQL admin API at ${address}/graphql):`, `    ${result.generatedAdminToken}`, '');
  }
  if (result.demo) {
    lines.push(
      `  Demo project ${result.demo.projectId}, test key ${result.demo.keyId} (shown once; test mode never calls upstreams or charges):`,
      `    ${result.demo.secret}`,
      '',
      '  Try it:',
      `    curl ${address}/v1/chat/completions \\`,
      `      -H "Authorization: Bearer ${result.demo.secret}" \\`,
      `      -H "Content-Type: application/json" \\`,
      `      -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'`,
      '',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
