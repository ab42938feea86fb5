/**
 * The Hub endpoint setting (like HF_ENDPOINT): where Hub ids are fetched from. It is the
 * user's, kept in this browser, never in a share link (a link cannot point the app at another
 * server). "Your own policy" edits it; runs use it.
 */
import { defaultHubEndpoint } from './hub.ts';

export const hubEndpointKey = 'cai-playground:hub-endpoint';

export function savedHubEndpoint(
  storage: Pick<Storage, 'getItem'> | null = globalThis.localStorage ?? null,
): string {
  return storage?.getItem(hubEndpointKey) ?? defaultHubEndpoint;
}
