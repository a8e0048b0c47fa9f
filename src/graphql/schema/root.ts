import { builder } from '../builder.js';

// The three root types; each domain file adds its fields to them.
builder.queryType({ description: 'Read the gateway: projects, keys, catalogue, upstream pool, money, usage, health, audit.' });
builder.mutationType({ description: 'Change the gateway. Needs an admin-role operator token; every change is audited.' });
builder.subscriptionType({ description: 'Live feeds over graphql-ws (same /graphql path) or server-sent events.' });
