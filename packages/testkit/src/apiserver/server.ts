// TestApiServer: a Kubernetes API server for tests, speaking the real REST + watch protocol
// over plain HTTP on 127.0.0.1 so the real @kubernetes/client-node can talk to it.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import type { KubeConfig } from '@kubernetes/client-node';

import { AccessControl } from './access.js';
import { testKubeConfig, testKubeconfigYaml } from './kubeconfig.js';
import type { CustomResourceDefinition } from './resources.js';
import { ResourceRegistry, apiVersionOf } from './resources.js';
import { RestApi } from './rest.js';
import type { RecordedRequest } from './router.js';
import { createRouter } from './router.js';
import { DEFAULT_HISTORY_SIZE, ObjectStore } from './store.js';
import { WatchHub } from './watch.js';

export interface TestApiServerOptions {
  /** CRDs to serve, e.g. `{ group: 'balanced.dev', version: 'v1alpha1', plural: 'vippools', kind: 'VipPool', namespaced: false }`. */
  customResources?: readonly CustomResourceDefinition[];
  /** Changes retained for watch resumption; older resourceVersions get 410. Default 1000. */
  historySize?: number;
  /** BOOKMARK interval on watches that allow bookmarks. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Server-side watch timeout when the client sends no timeoutSeconds. Default: none. */
  watchTimeoutSeconds?: number;
  /** Namespaces that exist at start. Default: default, kube-system, kube-public, kube-node-lease. */
  namespaces?: readonly string[];
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /**
   * Enforce authentication and RBAC: requests need the admin token (kubeConfig()) or a
   * ServiceAccount token (serviceAccountKubeConfig()), and a ServiceAccount may do only what
   * the stored Roles/ClusterRoles bound to it allow (403 Forbidden otherwise). Default false.
   */
  rbac?: boolean;
}

/** What load() did with each object: stored (`kind/ns/name`) or skipped (not served here). */
export interface LoadResult {
  readonly loaded: string[];
  readonly skipped: string[];
}

export interface RestartOptions {
  /** How long the server is unreachable (connections refused) before it listens again. */
  downtimeMs?: number;
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export class TestApiServer {
  /** Direct access to stored objects, bypassing HTTP (changes still reach watches). */
  readonly store: ObjectStore;
  private readonly access: AccessControl;
  private readonly watches: WatchHub;
  private readonly recorded: RecordedRequest[] = [];
  private server: Server;
  private listening = false;

  private constructor(
    private readonly options: TestApiServerOptions,
    private port: number,
  ) {
    const registry = new ResourceRegistry(options.customResources);
    this.store = new ObjectStore(registry, options.historySize ?? DEFAULT_HISTORY_SIZE);
    this.access = new AccessControl(this.store, options.rbac ?? false);
    this.watches = new WatchHub(this.store, {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
      defaultTimeoutSeconds: options.watchTimeoutSeconds,
    });
    for (const ns of options.namespaces ?? DEFAULT_NAMESPACES) {
      this.store.put('namespaces', { metadata: { name: ns }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    }
    this.server = this.createHttpServer();
  }

  static async start(options: TestApiServerOptions = {}): Promise<TestApiServer> {
    const api = new TestApiServer(options, options.port ?? 0);
    api.port = await listen(api.server, api.port);
    api.listening = true;
    return api;
  }

  /** http://127.0.0.1:<port> */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A KubeConfig for this server (context namespace `default`, dummy token). */
  kubeConfig(namespace?: string): KubeConfig {
    return testKubeConfig(this.url, namespace);
  }

  /** kubeconfig file text for this server. */
  kubeconfigYaml(namespace?: string): string {
    return testKubeconfigYaml(this.url, namespace);
  }

  /**
   * A KubeConfig that authenticates as the ServiceAccount `namespace/name` (which must exist in
   * the store, e.g. loaded from deploy/ with load()); its context namespace is `namespace`.
   */
  serviceAccountKubeConfig(namespace: string, name: string): KubeConfig {
    return testKubeConfig(this.url, namespace, this.access.issueToken(namespace, name));
  }

  /** The same as kubeconfig file text (for a component started as a process). */
  serviceAccountKubeconfigYaml(namespace: string, name: string): string {
    return testKubeconfigYaml(this.url, namespace, this.access.issueToken(namespace, name));
  }

  /**
   * Store objects as given, e.g. every document of deploy/*.yaml: those of a kind this server
   * serves (ServiceAccounts, Roles, ClusterRoles, bindings, ConfigMaps, Namespaces, ...) are
   * stored; the others (Deployments, DaemonSets, CRDs, ...) are skipped and listed.
   */
  load(objects: readonly unknown[]): LoadResult {
    const loaded: string[] = [];
    const skipped: string[] = [];
    for (const object of objects) {
      if (typeof object !== 'object' || object === null) continue;
      const { apiVersion, kind, metadata } = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
      const type = this.store.registry.all.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
      const name = typeof metadata?.name === 'string' ? metadata.name : '';
      const ns = typeof metadata?.namespace === 'string' ? `${metadata.namespace}/` : '';
      const label = `${String(kind)}/${ns}${name}`;
      if (type === undefined) {
        skipped.push(label);
        continue;
      }
      this.store.put(`${type.plural}${type.group === '' ? '' : `.${type.group}`}`, object);
      loaded.push(label);
    }
    return { loaded, skipped };
  }

  /** Requests received so far, oldest first (method, path, query, content type, body). */
  get requests(): readonly RecordedRequest[] {
    return [...this.recorded];
  }

  clearRequests(): void {
    this.recorded.length = 0;
  }

  /** Watch streams currently open. */
  get openWatches(): number {
    return this.watches.openCount;
  }

  /** Abruptly destroy every open watch connection mid-stream; returns how many. */
  cutWatches(): number {
    return this.watches.cutAll();
  }

  /** End every open watch stream cleanly (as a server-side timeout does); returns how many. */
  endWatches(): number {
    return this.watches.endAll();
  }

  /** Forget change history up to now: watches from an older resourceVersion get 410 Expired. */
  compact(): void {
    this.store.compact();
  }

  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.watches.cutAll();
    await close(this.server);
  }

  /** Simulate an API server restart: all connections dropped, same port, same stored state. */
  async restart(options: RestartOptions = {}): Promise<void> {
    await this.stop();
    if (options.downtimeMs !== undefined && options.downtimeMs > 0) {
      await sleep(options.downtimeMs);
    }
    this.server = this.createHttpServer();
    await listen(this.server, this.port);
    this.listening = true;
  }

  private createHttpServer(): Server {
    const rest = new RestApi(this.store);
    return createServer(
      createRouter({
        registry: this.store.registry,
        rest,
        watches: this.watches,
        record: (r) => this.recorded.push(r),
        access: this.access,
        serverAddress: () => `127.0.0.1:${this.port}`,
      }),
    );
  }
}
