import { lexicographicSortSchema, printSchema } from 'graphql/index.js';
import { schema } from './schema/index.js';

/** The committed SDL's exact text. */
export const printSchemaFile = (): string => `${printSchema(lexicographicSortSchema(schema))}\n`;
