// Where a controller finds its API server, in kubectl's order:
//   1. the --kubeconfig flag        (options.kubeconfig)
//   2. $KUBECONFIG                  (path-list; the first file's current-context wins)
//   3. in-cluster                   ($KUBERNETES_SERVICE_HOST/_PORT + the service-account token)
//   4. ~/.kube/config
// Unlike client-node's loadFromDefault(), nothing falls back to http://localhost:8080: when no
// source works the error names every source tried and why it was skipped. Everything is
// read from `options.env` (default process.env) so the order can be tested.

import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

import { KubeConfig } from '@kubernetes/client-node';

/** Where a pod's service-account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadKubeConfigOptions {
  /** The --kubeconfig flag; when given it must work (no fallback). */
  kubeconfig?: string;
  /** Environment to read KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT and HOME from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Service-account mount (token, ca.crt, namespace). Default {@link SERVICE_ACCOUNT_DIR}; for tests. */
  serviceAccountDir?: string;
}

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
  constructor(
    message: string,
    /** One line per source tried, in order. */
    readonly tried: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const tried: string[] = [];

  if (options.kubeconfig !== undefined && options.kubeconfig !== '') {
    return fromFiles([options.kubeconfig], `--kubeconfig ${options.kubeconfig}`, tried);
  }
  tried.push('--kubeconfig: not given');

  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((f) => f !== '');
  if (listed.length > 0) {
    // kubectl skips missing files in the list; all of them missing is an error, not a
    // reason to quietly talk to some other cluster.
    const present = listed.filter((f) => existsSync(f));
    if (present.length === 0) {
      tried.push(`KUBECONFIG=${env['KUBECONFIG'] ?? ''}: no such file`);
      throw failure(tried);
    }
    return fromFiles(present, `KUBECONFIG=${env['KUBECONFIG'] ?? ''}`, tried);
  }
  tried.push('KUBECONFIG: not set');

  const inCluster = inClusterConfig(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, tried);
  if (inCluster !== undefined) return inCluster;

  const home = env['HOME'] ?? env['USERPROFILE'] ?? homedir();
  const defaultFile = join(home, '.kube', 'config');
  if (existsSync(defaultFile)) {
    return fromFiles([defaultFile], defaultFile, tried);
  }
  tried.push(`${defaultFile}: no such file`);
  throw failure(tried);
}

function failure(tried: readonly string[], cause?: unknown): KubeConfigError {
  return new KubeConfigError(`no usable Kubernetes configuration; tried:\n  ${tried.join('\n  ')}`, tried, { cause });
}

/** Load and merge files (first file's current-context wins); the result must name a cluster. */
function fromFiles(files: readonly string[], source: string, tried: string[]): KubeConfig {
  const kc = new KubeConfig();
  try {
    files.forEach((file, i) => {
      if (i === 0) {
        kc.loadFromFile(file);
      } else {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, true);
      }
    });
  } catch (err) {
    tried.push(`${source}: ${err instanceof Error ? err.message : String(err)}`);
    throw failure(tried, err);
  }
  if (kc.getCurrentCluster() === null) {
    // getCurrentContext() is typed string but returns undefined when the file sets none.
    const context = kc.getCurrentContext() as string | undefined;
    tried.push(`${source}: current-context ${context ? `"${context}"` : '(unset)'} names no cluster`);
    throw failure(tried);
  }
  return kc;
}

function inClusterConfig(env: NodeJS.ProcessEnv, dir: string, tried: string[]): KubeConfig | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '';
  if (host === '' || port === '') {
    tried.push('in-cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT not set');
    return undefined;
  }
  const tokenFile = join(dir, 'token');
  if (!existsSync(tokenFile)) {
    tried.push(`in-cluster: ${tokenFile}: no such file`);
    return undefined;
  }
  // As client-node's loadFromCluster, but from `env` and `dir`. The token is read through
  // the tokenFile auth provider, which re-reads it every minute (bound tokens rotate).
  const caFile = join(dir, 'ca.crt');
  const namespaceFile = join(dir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, skipTLSVerify: false, ...(existsSync(caFile) ? { caFile } : {}) }],
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', ...(namespace ? { namespace } : {}) }],
    currentContext: 'inClusterContext',
  });
  return kc;
}
