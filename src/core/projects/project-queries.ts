import { and, asc, desc, eq, gt, gte, ilike, inArray, isNotNull, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import { getTableColumns } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { apiKeys, ledgerEntries, projectModelPermissions, projects } from '../../db/schema.js';
import { cursorAt, keysetPage, type PageArgs } from '../admin/keyset-page.js';

// Read side of project administration: lists with filters and cursors.

export type PermissionRow = typeof projectModelPermissions.$inferSelect;

export async function projectById(db: Db, id: string) {
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  return row;
}

/** Several projects in one query, by id (GraphQL lists that name their project). */
export async function projectsByIds(db: Db, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, typeof projects.$inferSelect>();
  const rows = await db.select().from(projects).where(inArray(projects.id, [...ids]));
  return new Map(rows.map((p) => [p.id, p]));
}

export interface ProjectFilter {
  status?: 'active' | 'archived' | null;
  /** Part of the name, case-insensitive. */
  search?: string | null;
}

export function listProjects(db: Db, filter: ProjectFilter, page: PageArgs) {
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(eq(projects.status, filter.status));
  if (filter.search) conditions.push(ilike(projects.name, `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  return keysetPage(page, projects, (after, limit) =>
    db
      .select({ ...getTableColumns(projects), cursorAt: cursorAt(projects.createdAt) })
      .from(projects)
      .where(and(...conditions, after))
      .orderBy(desc(projects.createdAt), desc(projects.id))
      .limit(limit),
  );
}

export type ApiKeyState = 'active' | 'revoked' | 'expired';

export interface ApiKeyFilter {
  projectId?: string | null;
  mode?: 'live' | 'test' | null;
  state?: ApiKeyState | null;
}

function apiKeyConditions(filter: ApiKeyFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.projectId) conditions.push(eq(apiKeys.projectId, filter.projectId));
  if (filter.mode) conditions.push(eq(apiKeys.mode, filter.mode));
  if (filter.state === 'revoked') conditions.push(isNotNull(apiKeys.revokedAt));
  if (filter.state === 'expired') conditions.push(and(isNull(apiKeys.revokedAt), lte(apiKeys.expiresAt, sql`now()`))!);
  if (filter.state === 'active') conditions.push(and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)))!);
  return conditions;
}

export function listApiKeys(db: Db, filter: ApiKeyFilter, page: PageArgs) {
  const conditions = apiKeyConditions(filter);
  return keysetPage(page, apiKeys, (after, limit) =>
    db
      .select({ ...getTableColumns(apiKeys), cursorAt: cursorAt(apiKeys.createdAt) })
      .from(apiKeys)
      .where(and(...conditions, after))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(limit),
  );
}

export async function apiKeyById(db: Db, id: string) {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

/** The keys of several projects in one query, each project's oldest first. */
export async function projectsApiKeys(db: Db, projectIds: readonly string[], filter: Omit<ApiKeyFilter, 'projectId'> = {}) {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(inArray(apiKeys.projectId, [...projectIds]), ...apiKeyConditions(filter)))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  const byProject = new Map<string, typeof rows>(projectIds.map((id) => [id, []]));
  for (const row of rows) byProject.get(row.projectId)?.push(row);
  return byProject;
}

/** The model permissions of several projects in one query, by model id. */
export async function projectsPermissions(db: Db, projectIds: readonly string[]): Promise<Map<string, PermissionRow[]>> {
  const rows = await db
    .select()
    .from(projectModelPermissions)
    .where(inArray(projectModelPermissions.projectId, [...projectIds]))
    .orderBy(asc(projectModelPermissions.modelId));
  const byProject = new Map<string, PermissionRow[]>(projectIds.map((id) => [id, []]));
  for (const row of rows) byProject.get(row.projectId)?.push(row);
  return byProject;
}

/** A key's name and last 4 characters with its project's name: how a key introduces itself. */
export async function apiKeyCard(db: Db, keyId: string) {
  const [row] = await db
    .select({ projectName: projects.name, keyName: apiKeys.name, last4: apiKeys.last4, createdAt: apiKeys.createdAt })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(eq(apiKeys.id, keyId))
    .limit(1);
  return row;
}

export interface LedgerFilter {
  projectId?: string | null;
  kinds?: Array<'credit' | 'adjustment' | 'charge' | 'refund'> | null;
  requestId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export function listLedgerEntries(db: Db, filter: LedgerFilter, page: PageArgs) {
  const conditions: SQL[] = [];
  if (filter.projectId) conditions.push(eq(ledgerEntries.projectId, filter.projectId));
  if (filter.kinds && filter.kinds.length > 0) conditions.push(inArray(ledgerEntries.kind, filter.kinds));
  if (filter.requestId) conditions.push(eq(ledgerEntries.requestId, filter.requestId));
  if (filter.from) conditions.push(gte(ledgerEntries.createdAt, filter.from));
  if (filter.to) conditions.push(lt(ledgerEntries.createdAt, filter.to));
  return keysetPage(page, ledgerEntries, (after, limit) =>
    db
      .select({ ...getTableColumns(ledgerEntries), cursorAt: cursorAt(ledgerEntries.createdAt) })
      .from(ledgerEntries)
      .where(and(...conditions, after))
      .orderBy(desc(ledgerEntries.createdAt), desc(ledgerEntries.id))
      .limit(limit),
  );
}
