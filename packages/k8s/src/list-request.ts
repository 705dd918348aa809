// One LIST request of the cluster cache, as plain JSON.
//
// client-node's generated list calls turn every object into its typed model (ObjectSerializer):
// at 10,000 Services + 10,000 EndpointSlices that is ~1 s of CPU and ~140 MB of transient heap
// more than parsing the JSON (measured with the agent bench's API server, Node 24), and
// watch events arrive as plain JSON anyway. So lists use the same connection setup as
// client-node's Watch (KubeConfig.applyToFetchOptions: TLS agent, auth headers, exec/token
// plugins) and the response is parsed once, as JSON.

import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';

/** Query of one list page; undefined values are left out. */
export interface ListQuery {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
}

/** A refused or failed list: `statusCode` is what informer-errors classifies. */
export class ListRequestError extends Error {
  override readonly name = 'ListRequestError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The list's URL: the current cluster's server, the path, and the query. */
export function listUrl(server: string, path: string, query: ListQuery): URL {
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }
  return url;
}

/** The message of a failed response: a Status's `message` when the body is one, else the HTTP reason. */
export function failureMessage(statusCode: number, body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    const message = (parsed as { message?: unknown } | null)?.message;
    if (typeof message === 'string' && message) return message;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 200) || `HTTP ${statusCode}`;
}

/** Headers as client-node hands them over (a Headers object, pairs or a record), as a record. */
export function plainHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined || headers === null) return out;
  const iterable = headers as { forEach?: unknown };
  if (Array.isArray(headers)) {
    for (const pair of headers as unknown[]) if (Array.isArray(pair) && pair.length === 2) out[String(pair[0]).toLowerCase()] = String(pair[1]);
  } else if (typeof iterable.forEach === 'function') {
    (headers as { forEach(fn: (value: string, key: string) => void): void }).forEach((value, key) => (out[key.toLowerCase()] = value));
  } else if (typeof headers === 'object') {
    for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = String(value);
  }
  return out;
}

/** GET one page of a list from the API server of `kc`'s current context. */
export async function listPage(kc: KubeConfig, path: string, query: ListQuery): Promise<KubernetesListObject<KubernetesObject>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = listUrl(cluster.server, path, query);
  const init = await kc.applyToFetchOptions({});
  const headers: Record<string, string> = { accept: 'application/json', ...plainHeaders(init.headers) };
  const options: RequestOptions = { method: 'GET', headers, ...(init.agent && typeof init.agent === 'object' ? { agent: init.agent as RequestOptions['agent'] } : {}) };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const { statusCode, body } = await new Promise<{ statusCode: number; body: string }>((resolve, reject) => {
    const req = send(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  if (statusCode !== 200) throw new ListRequestError(statusCode, failureMessage(statusCode, body));
  const list = JSON.parse(body) as KubernetesListObject<KubernetesObject>;
  if (!Array.isArray(list.items)) list.items = []; // a list with no objects may omit `items`
  return list;
}
