import { builder } from '../builder.js';

// The three root types; each domain file adds its fields to them. Their
// scopes cover every field added later: any operator reads and watches,
// only an admin changes anything. Fields restate their root's scope with
// t.withAuth where the resolver needs the operator: its context is typed so.
builder.queryType({
  description: 'Read the gateway: projects, keys, catalogue, upstream pool, money, usage, health, audit.',
  authScopes: { operator: true },
});
builder.mutationType({
  description: 'Change the gateway. Needs an admin-role operator token; every change is audited.',
  authScopes: { admin: true },
});
builder.subscriptionType({
  description: 'Live feeds over graphql-ws (same /graphql path) or server-sent events.',
  authScopes: { operator: true },
});
