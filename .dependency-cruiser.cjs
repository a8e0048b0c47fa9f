// The rules of the house, checked in CI by `npm run lint` (dependency-cruiser).
// core → contract ← providers (and src/tokens, the tokenizer both use); the
// doors (rest, graphql) reach the database only through core; no cycles.
// A violation names its rule.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import loops make load order matter and hide which module owns what: move the shared piece down.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'contract-is-neutral',
      severity: 'error',
      comment: 'src/contract is what core and providers both speak; it imports nothing else of ours.',
      from: { path: '^src/contract/' },
      to: { path: '^src/(?!contract/)' },
    },
    {
      name: 'tokens-is-a-leaf',
      severity: 'error',
      comment: 'src/tokens counts tokens for core and providers alike; it may use only the contract.',
      from: { path: '^src/tokens/' },
      to: { path: '^src/(?!contract/|tokens/)' },
    },
    {
      name: 'core-has-no-framework',
      severity: 'error',
      comment: 'src/core is framework-free: no Fastify, GraphQL or web code; the doors adapt it.',
      from: { path: '^src/core/' },
      to: {
        path: [
          '^src/(rest|graphql|web|providers)/',
          '^src/(app|main)\\.ts$',
          'node_modules/(fastify|@fastify|graphql|graphql-yoga|@graphql-yoga|@pothos|graphql-ws|ws|preact|htm)/',
        ],
      },
    },
    {
      name: 'providers-speak-the-contract',
      severity: 'error',
      comment: 'An adapter imports only the contract, the tokenizer, its own folder and the shared HTTP helpers (src/providers/http).',
      from: { path: '^src/providers/' },
      to: { path: '^src/(?!contract/|tokens/|providers/)' },
    },
    {
      name: 'adapters-stay-apart',
      severity: 'error',
      comment: 'One adapter never reaches into another; what they share goes to src/providers/http or the contract.',
      from: { path: '^src/providers/([^/]+)/' },
      to: { path: '^src/providers/([^/]+)/', pathNot: ['^src/providers/$1/', '^src/providers/http/'] },
    },
    {
      name: 'doors-reach-the-database-through-core',
      severity: 'error',
      comment: 'REST and GraphQL call core query and action modules; they run no SQL of their own.',
      from: { path: '^src/(rest|graphql)/' },
      to: { path: ['^src/db/', 'node_modules/(drizzle-orm|postgres|@electric-sql)/'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
    exclude: { path: '^src/web/' },
  },
};
