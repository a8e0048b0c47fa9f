// The GraphQL documents the console sends, and the shapes it reads. Names
// follow schema/schema.graphql; the minimum operations of the spec are the
// backbone (createProject, createApiKey, creditBalance, addUpstreamKey,
// setModelPermissions, upstreamKeys, usage, providerHealth).

export interface ApiKeyItem {
  id: string;
  name: string;
  prefix: string;
  last4: string;
  mode: 'LIVE' | 'TEST';
  state: 'ACTIVE' | 'REVOKED' | 'EXPIRED';
}

export interface ProjectItem {
  id: string;
  name: string;
  status: 'ACTIVE' | 'ARCHIVED';
  currency: string;
  balance: string;
  reserved: string;
  available: string;
  allModels: boolean;
  permissions: { modelId: string }[];
  apiKeys: ApiKeyItem[];
  usageSummary: { requests: number; costTotal: string } | null;
}

export interface HealthItem {
  state: string;
  successRate?: number | null;
  p95LatencyMs?: number | null;
  inFlight?: number | null;
  lastError?: string | null;
  lastErrorAt?: string | null;
}

export interface UpstreamKeyItem {
  id: string;
  label: string;
  provider: string;
  baseUrl?: string | null;
  health: HealthItem | null;
}

export interface ModelItem {
  id: string;
  kind: 'CHAT' | 'EMBEDDING';
}

export interface ConsoleData {
  projects: { nodes: ProjectItem[] };
  upstreamKeys: UpstreamKeyItem[];
  models: ModelItem[];
}

export const CONSOLE_QUERY = /* GraphQL */ `
  query Console {
    projects(first: 200) {
      nodes {
        id
        name
        status
        currency
        balance
        reserved
        available
        allModels
        permissions { modelId }
        apiKeys { id name prefix last4 mode state }
        usageSummary { requests costTotal }
      }
    }
    upstreamKeys {
      id
      label
      provider
      baseUrl
      health { state successRate p95LatencyMs inFlight lastError lastErrorAt }
    }
    models { id kind }
  }
`;

export interface UsageEventItem {
  requestId: string;
  projectId?: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Parts of promptTokens: read from the provider's prompt cache, and written to it (5-minute, 1-hour TTL). */
  cachedTokens?: number | null;
  cacheWriteTokens?: number | null;
  cacheWrite1hTokens?: number | null;
  cost: string;
  status: string;
  test?: boolean | null;
  latencyMs?: number | null;
  createdAt?: string | null;
}

export const USAGE_SUBSCRIPTION = /* GraphQL */ `
  subscription LiveUsage {
    usage { requestId projectId model promptTokens completionTokens cachedTokens cacheWriteTokens cacheWrite1hTokens cost status test latencyMs createdAt }
  }
`;

export interface HealthEventItem extends HealthItem {
  upstreamKeyId: string;
  provider: string;
}

export const HEALTH_SUBSCRIPTION = /* GraphQL */ `
  subscription LiveHealth {
    providerHealth { upstreamKeyId provider state successRate p95LatencyMs inFlight lastError lastErrorAt }
  }
`;

export const CREATE_PROJECT = /* GraphQL */ `
  mutation CreateProject($input: CreateProjectInput!) {
    createProject(input: $input) { id name balance }
  }
`;

export const CREATE_API_KEY = /* GraphQL */ `
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { secret apiKey { id prefix last4 mode name } }
  }
`;

export const CREDIT_BALANCE = /* GraphQL */ `
  mutation CreditBalance($projectId: ID!, $amount: Decimal!, $reason: String!) {
    creditBalance(projectId: $projectId, amount: $amount, reason: $reason) { balance }
  }
`;

/** The providers the gateway has, as their adapters declare them: the upstream key form's choices. */
export interface ProviderChoice {
  provider: string;
  displayName: string;
  defaultBaseUrl: string | null;
  baseUrlRequired: boolean;
}

export const PROVIDER_CHOICES = /* GraphQL */ `
  query ProviderChoices {
    providers { provider displayName defaultBaseUrl baseUrlRequired }
  }
`;

export const ADD_UPSTREAM_KEY = /* GraphQL */ `
  mutation AddUpstreamKey($input: AddUpstreamKeyInput!) {
    addUpstreamKey(input: $input) { id label provider health { state } }
  }
`;

export const SET_PERMISSIONS = /* GraphQL */ `
  mutation SetModelPermissions($projectId: ID!, $models: [String!]!) {
    setModelPermissions(projectId: $projectId, models: $models) { id }
  }
`;

export const REVOKE_API_KEY = /* GraphQL */ `
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) { id revokedAt }
  }
`;
