// The rules of the house (.dependency-cruiser.cjs) hold over src, and they
// bite: over fixtures/ (a fake tree with deliberately wrong imports) each
// broken rule is reported by name. Run with the same options `npm run lint`
// uses, through dependency-cruiser's API.
import { fileURLToPath } from 'node:url';
import { type ICruiseResult, cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));

type Options = Awaited<ReturnType<typeof extractDepcruiseOptions>>;
let options: Options;

beforeAll(async () => {
  options = await extractDepcruiseOptions(`${root}/.dependency-cruiser.cjs`);
});

async function cruiseIn(baseDir: string, tsConfig?: string): Promise<ICruiseResult> {
  const result = await cruise(['src'], { ...options, baseDir }, {}, tsConfig ? { tsConfig: extractTSConfig(tsConfig) } : {});
  return result.output as ICruiseResult;
}

const broken = (result: ICruiseResult) => result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));

describe('the dependency rules', () => {
  it('hold over src: no violation, no cycle', async () => {
    const result = await cruiseIn(root, `${root}/tsconfig.json`);
    expect(broken(result)).toEqual([]);
    expect(result.summary.totalCruised).toBeGreaterThan(100);
  });

  it('name the rule a wrong import breaks', async () => {
    const violations = broken(await cruiseIn(fixtures));
    expect(violations).toEqual(
      expect.arrayContaining([
        { rule: 'core-has-no-framework', from: 'src/core/imports-fastify.ts', to: expect.stringMatching(/node_modules\/fastify\//) },
        { rule: 'core-has-no-framework', from: 'src/core/imports-a-provider.ts', to: 'src/providers/fake/fake-adapter.ts' },
        { rule: 'no-cycles', from: 'src/core/loop-a.ts', to: 'src/core/loop-b.ts' },
      ]),
    );
  });
});
