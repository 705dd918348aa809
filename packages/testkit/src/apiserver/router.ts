// Maps HTTP requests onto the REST verbs, watches and discovery:
//   /api/v1/{plural}[/{name}[/status]]                       cluster-scoped, or all namespaces
//   /api/v1/namespaces/{ns}/{plural}[/{name}[/status]]       namespaced
//   /apis/{group}/{version}/...                              likewise
//   /api/v1/watch/... and /apis/{g}/{v}/watch/...            legacy watch paths
// Every failure is answered with a Status object.

import type { IncomingMessage, ServerResponse } from 'node:http';

import type { AccessControl, ResourceRequest } from './access.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.js';
import type { ResourceRegistry, ResourceType } from './resources.js';
import type { Query, RestApi, Subresource } from './rest.js';
import { parseFilter } from './selectors.js';
import { ApiError, badRequest, methodNotAllowed, pathNotFound } from './status.js';
import type { WatchHub } from './watch.js';

export interface RecordedRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** Parsed JSON body, when there was one. */
  body: unknown;
}

export interface RouterContext {
  registry: ResourceRegistry;
  rest: RestApi;
  watches: WatchHub;
  record(request: RecordedRequest): void;
  serverAddress(): string;
  /** Authentication and RBAC (a no-op unless the server enforces RBAC). */
  access: AccessControl;
}

interface ResourceRoute {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: Subresource;
  watch: boolean;
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`invalid JSON in request body: ${(err as Error).message}`);
  }
}

/** Resolve the segments after /api/v1 or /apis/{g}/{v} to a resource route. */
function resourceRoute(registry: ResourceRegistry, group: string, version: string, segments: string[]): ResourceRoute | undefined {
  let rest = segments;
  let watch = false;
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{plural}/... — but namespaces/{name}[/status] is the Namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = rest;
  if (plural === undefined || extra.length > 0) return undefined;
  const type = registry.byPath(group, version, plural);
  if (type === undefined) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  if (sub !== undefined && (sub !== 'status' || !type.statusSubresource)) return undefined;
  if (!type.namespaced && name === undefined && namespace !== undefined) return undefined;
  if (type.namespaced && name !== undefined && namespace === undefined) return undefined;
  return { type, namespace, name, subresource: sub === 'status' ? 'status' : 'main', watch };
}

function discovery(ctx: RouterContext, segments: string[]): object | undefined {
  const [root, a, b, ...more] = segments;
  if (more.length > 0) return undefined;
  if (root === 'api') {
    if (a === undefined) return apiVersions(ctx.serverAddress());
    if (a === 'v1' && b === undefined) return apiResourceList(ctx.registry, '', 'v1');
  }
  if (root === 'apis') {
    if (a === undefined) return apiGroupList(ctx.registry);
    if (b === undefined) return apiGroup(ctx.registry, a);
    return apiResourceList(ctx.registry, a, b);
  }
  if (root === 'version' && a === undefined) return VERSION_INFO;
  return undefined;
}

function isWatch(query: Query): boolean {
  const w = query['watch'];
  return w === 'true' || w === '1';
}

async function route(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://apiserver.invalid');
  const query: Record<string, string> = Object.fromEntries(url.searchParams);
  const method = req.method ?? 'GET';
  const contentType = req.headers['content-type']?.split(';')[0]?.trim();
  const body = method === 'GET' || method === 'HEAD' ? undefined : parseJson(await readBody(req));
  ctx.record({ method, path: url.pathname, query, contentType, body });

  const segments = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  if (['healthz', 'readyz', 'livez'].includes(segments[0] ?? '') && segments.length === 1) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    return;
  }
  const authorization = req.headers.authorization;
  if (segments.length <= 3 && method === 'GET') {
    const doc = discovery(ctx, segments);
    if (doc !== undefined) {
      // As on a real cluster: discovery is open to every authenticated user (system:discovery),
      // /version to anyone (system:public-info-viewer).
      if (segments[0] !== 'version') ctx.access.authenticate(authorization);
      sendJson(res, 200, doc);
      return;
    }
  }

  let r: ResourceRoute | undefined;
  if (segments[0] === 'api' && segments[1] === 'v1') {
    r = resourceRoute(ctx.registry, '', 'v1', segments.slice(2));
  } else if (segments[0] === 'apis' && segments[1] !== undefined && segments[2] !== undefined) {
    r = resourceRoute(ctx.registry, segments[1], segments[2], segments.slice(3));
  }
  if (r === undefined) {
    throw pathNotFound();
  }
  const { type, namespace, name, subresource } = r;
  const rv = query['resourceVersion'];
  if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) {
    throw badRequest(`invalid resource version: ${rv}`);
  }

  const watching = method === 'GET' && subresource === 'main' && (r.watch || isWatch(query));
  ctx.access.check(authorization, requestAttributes(r, method, watching, query));
  if (watching) {
    const filter = parseFilter(query['labelSelector'], query['fieldSelector'], type.fieldLabels);
    const timeout = query['timeoutSeconds'];
    ctx.watches.serve(req, res, {
      type,
      namespace,
      // A watch on one object's path is a collection watch narrowed to that name.
      filter: name === undefined ? filter : { ...filter, fields: [...filter.fields, { field: 'metadata.name', negate: false, value: name }] },
      resourceVersion: rv,
      bookmarks: query['allowWatchBookmarks'] === 'true',
      timeoutSeconds: timeout === undefined ? undefined : Number(timeout),
      sendInitialEvents: query['sendInitialEvents'] === 'true',
    });
    return;
  }

  if (name === undefined) {
    switch (method) {
      case 'GET':
        sendJson(res, 200, ctx.rest.list(type, namespace, query));
        return;
      case 'POST':
        if (type.namespaced && namespace === undefined) throw methodNotAllowed(method);
        sendJson(res, 201, ctx.rest.create(type, namespace, body));
        return;
      case 'DELETE':
        if (type.namespaced && namespace === undefined) throw methodNotAllowed(method);
        sendJson(res, 200, ctx.rest.deleteCollection(type, namespace, query));
        return;
      default:
        throw methodNotAllowed(method);
    }
  }

  switch (method) {
    case 'GET':
      sendJson(res, 200, ctx.rest.get(type, namespace, name));
      return;
    case 'PUT':
      sendJson(res, 200, ctx.rest.update(type, namespace, name, body, subresource));
      return;
    case 'PATCH':
      sendJson(res, 200, ctx.rest.patch(type, namespace, name, contentType ?? '', body, subresource));
      return;
    case 'DELETE':
      if (subresource !== 'main') throw methodNotAllowed(method);
      sendJson(res, 200, ctx.rest.delete(type, namespace, name, body ?? deleteOptionsFromQuery(query)));
      return;
    default:
      throw methodNotAllowed(method);
  }
}

/** RBAC's view of a request: verb, group, resource, subresource, namespace, name. */
function requestAttributes(r: ResourceRoute, method: string, watching: boolean, query: Query): ResourceRequest {
  let verb: string;
  if (watching) verb = 'watch';
  else if (method === 'GET' || method === 'HEAD') verb = r.name === undefined ? 'list' : 'get';
  else if (method === 'POST') verb = 'create';
  else if (method === 'PUT') verb = 'update';
  else if (method === 'PATCH') verb = 'patch';
  else if (method === 'DELETE') verb = r.name === undefined ? 'deletecollection' : 'delete';
  else verb = method.toLowerCase();
  // As the real server: a list or watch narrowed by fieldSelector=metadata.name=X names X.
  let name = r.name ?? '';
  if (name === '' && (verb === 'list' || verb === 'watch')) {
    const m = /^metadata\.name==?([^,]+)$/.exec(query['fieldSelector'] ?? '');
    if (m?.[1] !== undefined) name = m[1];
  }
  return {
    verb,
    apiGroup: r.type.group,
    resource: r.type.plural,
    subresource: r.subresource === 'status' ? 'status' : '',
    namespace: r.namespace ?? '',
    name,
  };
}

function deleteOptionsFromQuery(query: Query): object {
  return {
    ...(query['preconditions.uid'] === undefined && query['preconditions.resourceVersion'] === undefined
      ? {}
      : {
          preconditions: {
            ...(query['preconditions.uid'] === undefined ? {} : { uid: query['preconditions.uid'] }),
            ...(query['preconditions.resourceVersion'] === undefined ? {} : { resourceVersion: query['preconditions.resourceVersion'] }),
          },
        }),
  };
}

/** The request listener: errors become Status responses. */
export function createRouter(ctx: RouterContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      const apiError =
        err instanceof ApiError ? err : new ApiError(500, 'InternalError', `internal error: ${err instanceof Error ? err.message : String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, apiError.code, apiError.toStatus());
    });
  };
}
