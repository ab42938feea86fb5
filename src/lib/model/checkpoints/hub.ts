/**
 * The Hugging Face Hub's file URLs. The endpoint is a setting (like HF_ENDPOINT): users behind
 * a mirror set theirs, and tests point it at a stand-in Hub on 127.0.0.1.
 */
export const defaultHubEndpoint = 'https://huggingface.co';

/** The base URL (ending in /) of a Hub model's files at a revision. */
export function hubBase(endpoint: string, id: string, revision = 'main'): string {
  const root = endpoint.replace(/\/+$/, '');
  return `${root}/${id}/resolve/${encodeURIComponent(revision)}/`;
}

/** A Hub endpoint as typed by a user: an http(s) URL, else an error saying so. */
export function checkHubEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`The Hub endpoint "${value}" is not a URL (like ${defaultHubEndpoint}).`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`The Hub endpoint "${value}" must be an http or https URL.`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** A Hub model at a revision, on an endpoint. */
export interface HubRef {
  endpoint: string;
  id: string;
  revision: string;
}

export const hubRefBase = (ref: HubRef): string => hubBase(ref.endpoint, ref.id, ref.revision);
