// Field descriptions that name the providers, written from the registry so
// the SDL lists exactly the providers the gateway has.
import { providerInfos } from '../../providers/registry.js';

const ids = providerInfos.map((info) => info.id);
const joined = (names: string[]): string => (names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? ''));
const withOfficialUrl = providerInfos.find((info) => info.defaultBaseUrl !== undefined);
const needBaseUrl = providerInfos.filter((info) => info.defaultBaseUrl === undefined).map((info) => info.id);

/** "openai, anthropic, … or openai-compatible." */
export const providerIdsDescription = `${joined(ids)}.`;

export const baseUrlDescription = [
  'As the provider’s SDK takes it',
  withOfficialUrl ? ` (${withOfficialUrl.displayName}: ${withOfficialUrl.defaultBaseUrl})` : '',
  needBaseUrl.length > 0 ? `; required for ${joined(needBaseUrl)}.` : '.',
].join('');
