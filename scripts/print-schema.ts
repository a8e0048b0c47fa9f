// Writes the SDL of the GraphQL admin API to schema/schema.graphql, sorted so
// the file changes only when the schema does. test/graphql/schema-drift.test.ts
// fails when the committed file and the code disagree.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchemaFile } from '../src/graphql/print-schema-file.js';

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
writeFileSync(target, printSchemaFile());
process.stdout.write(`wrote ${target}\n`);
