import type { Operator } from '../core/admin/admin-tokens.js';
import type { GraphQLContext } from './context.js';
import { forbidden, unauthenticated } from './errors.js';

/**
 * The operator a mutation acts as, or an error. The auth plugin already
 * refuses these requests before execution; this keeps each resolver safe on
 * its own (and gives the audit log its actor).
 */
export function adminActor(ctx: GraphQLContext): string {
  const op = requireOperator(ctx);
  if (op.role !== 'admin') throw forbidden(`The operator token "${op.name}" has the viewer role; changes need an admin token.`);
  return op.name;
}

export function requireOperator(ctx: GraphQLContext): Operator {
  if (!ctx.operator) throw unauthenticated('An operator token is required: send "Authorization: Bearer <admin token>".');
  return ctx.operator;
}
