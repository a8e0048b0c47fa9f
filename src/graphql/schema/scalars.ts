import { GraphQLError, Kind, type ValueNode } from 'graphql/index.js';
import { formatMoney, parseMoney } from '../../core/money.js';
import { builder } from '../builder.js';

const DECIMAL = /^-?\d+(\.\d+)?$/;

function parseDecimal(value: unknown): string {
  if (typeof value === 'string' && DECIMAL.test(value.trim())) return value.trim();
  // Whole numbers are exact as JSON numbers too; fractions are not, so they must be strings.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new GraphQLError(`Decimal values are strings such as "12.5" (got ${JSON.stringify(value)}).`, { extensions: { code: 'BAD_USER_INPUT' } });
}

function parseDateTime(value: unknown): Date {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new GraphQLError(`DateTime values are ISO 8601 strings with a time zone, such as "2025-01-31T12:00:00Z" (got ${JSON.stringify(value)}).`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

/** A numeric column or a bigint of pico-units as the shortest exact decimal ("0.15", not "0.150000"). */
export function decimalText(value: string | bigint): string {
  return formatMoney(typeof value === 'bigint' ? value : parseMoney(value));
}

builder.scalarType('Decimal', {
  description: 'An exact decimal number as a string, such as "12.5": money in the deployment currency, prices per 1M tokens.',
  serialize: (value) => String(value),
  parseValue: parseDecimal,
  parseLiteral: (node) => {
    if (node.kind === Kind.STRING || node.kind === Kind.INT) return parseDecimal(node.kind === Kind.INT ? Number(node.value) : node.value);
    throw new GraphQLError('Decimal values are strings such as "12.5".', { nodes: node, extensions: { code: 'BAD_USER_INPUT' } });
  },
});

builder.scalarType('DateTime', {
  description: 'An ISO 8601 date-time; output is always UTC, such as "2025-01-31T12:00:00.000Z".',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (node) => {
    if (node.kind === Kind.STRING) return parseDateTime(node.value);
    throw new GraphQLError('DateTime values are ISO 8601 strings.', { nodes: node, extensions: { code: 'BAD_USER_INPUT' } });
  },
});

function literalValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literalValue);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalValue(f.value)]));
    default:
      throw new GraphQLError('JSON literals cannot use variables.', { nodes: node });
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalValue,
});
