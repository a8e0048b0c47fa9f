import type { ModelCapabilities } from '../../db/schema.js';
import type { CatalogueModel } from '../catalogue/catalogue.js';
import type { ChatRequest } from '../../contract/chat-request.js';

/** A request option that only models with a capability can honour. */
export interface NeededCapability {
  capability: keyof ModelCapabilities;
  /** The request field, as the client wrote it. */
  option: string;
}

/** The capabilities the seed's options (`think`, `deepsearch`) and their OpenAI equivalents ask for. */
export function neededCapabilities(req: ChatRequest): NeededCapability[] {
  const needs: NeededCapability[] = [];
  if (req.think) needs.push({ capability: 'reasoning', option: 'think' });
  else if (req.reasoning_effort != null && req.reasoning_effort !== 'none') needs.push({ capability: 'reasoning', option: 'reasoning_effort' });
  if (req.deepsearch) needs.push({ capability: 'webSearch', option: 'deepsearch' });
  else if ((req as Record<string, unknown>).web_search_options != null) needs.push({ capability: 'webSearch', option: 'web_search_options' });
  return needs;
}

/**
 * The first option the model cannot honour. A model whose capabilities the
 * catalogue does not describe (an empty object) is not judged here: its
 * adapter and upstream decide.
 */
export function unmetCapability(model: CatalogueModel, needs: NeededCapability[]): NeededCapability | undefined {
  const capabilities = model.capabilities ?? {};
  if (needs.length === 0 || Object.keys(capabilities).length === 0) return undefined;
  return needs.find((need) => capabilities[need.capability] !== true);
}
