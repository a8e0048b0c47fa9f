import type { Endpoint } from '../../contract/endpoints.js';
import type { Db } from '../../db/open-database.js';
import { usageRecords } from '../../db/schema.js';

export interface Rejection {
  requestId: string;
  projectId: string;
  apiKeyId: string;
  endpoint: Endpoint;
  modelId: string;
  httpStatus: number;
  errorCode: string;
  stream: boolean;
  test: boolean;
  replicaId: string;
}

/** A request refused before any upstream call still leaves its usage record. */
export async function recordRejection(db: Db, r: Rejection): Promise<void> {
  await db
    .insert(usageRecords)
    .values({ id: r.requestId, projectId: r.projectId, apiKeyId: r.apiKeyId, endpoint: r.endpoint, modelId: r.modelId, status: 'rejected', httpStatus: r.httpStatus, errorCode: r.errorCode, stream: r.stream, test: r.test, replicaId: r.replicaId, settledAt: new Date() })
    .onConflictDoNothing();
}
