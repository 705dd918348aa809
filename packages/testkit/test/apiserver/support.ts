// Shared helpers for the test API server's tests.

import { ApiException, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Service } from '@kubernetes/client-node';

import type { StatusObject } from '../../src/apiserver/status.js';

/** Await a client call expected to fail; returns the HTTP code and the parsed Status body. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; status: StatusObject }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) {
      const body = err.body as unknown;
      return { code: err.code, status: JSON.parse(typeof body === 'string' ? body : JSON.stringify(body)) as StatusObject };
    }
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** Poll until `check` returns true (or a truthy value); fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function service(name: string, labels: Record<string, string> = {}, port = 80): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels },
    spec: { type: 'LoadBalancer', ports: [{ port, protocol: 'TCP' }], selector: { app: name } },
  };
}

export interface SeenEvent {
  type: string;
  name: string | undefined;
  resourceVersion: string | undefined;
  object: Record<string, unknown> & { metadata?: { name?: string; resourceVersion?: string } };
}

export interface OpenWatch {
  events: SeenEvent[];
  /** Resolves with the error (or null) the watch ended with. */
  ended: Promise<unknown>;
  isEnded(): boolean;
  abort(): void;
}

/** Start a raw client-node Watch and collect what it sees. */
export async function openWatch(kc: KubeConfig, path: string, query: Record<string, string | number | boolean | undefined>): Promise<OpenWatch> {
  const events: SeenEvent[] = [];
  let ended = false;
  let resolveEnded: (err: unknown) => void = () => undefined;
  const endedPromise = new Promise<unknown>((resolve) => {
    resolveEnded = resolve;
  });
  const controller = await new Watch(kc).watch(
    path,
    query,
    (type: string, object: SeenEvent['object']) => {
      events.push({ type, name: object.metadata?.name, resourceVersion: object.metadata?.resourceVersion, object });
    },
    (err: unknown) => {
      ended = true;
      resolveEnded(err);
    },
  );
  return { events, ended: endedPromise, isEnded: () => ended, abort: () => controller.abort() };
}
