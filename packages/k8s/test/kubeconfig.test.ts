import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { testKubeconfigYaml } from '@balanced/testkit';

import { KubeConfigError, loadKubeConfig } from '../src/kubeconfig.js';

let dir: string;
let flagFile: string;
let envFile: string;
let envFile2: string;
let home: string;
let saDir: string;
const noFile = (): string => join(dir, 'missing.yaml');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'k8s-kubeconfig-'));
  const write = (name: string, server: string, namespace = 'default'): string => {
    const file = join(dir, name);
    writeFileSync(file, testKubeconfigYaml(server, namespace));
    return file;
  };
  flagFile = write('flag.yaml', 'http://flag.test:1');
  envFile = write('env.yaml', 'http://env.test:2');
  // Same cluster/user/context names as env.yaml: kubectl-style merge keeps the first.
  envFile2 = join(dir, 'env2.yaml');
  writeFileSync(
    envFile2,
    testKubeconfigYaml('http://env2.test:3').replaceAll('testkit', 'other'),
  );
  home = join(dir, 'home');
  mkdirSync(join(home, '.kube'), { recursive: true });
  writeFileSync(join(home, '.kube', 'config'), testKubeconfigYaml('http://home.test:4'));
  saDir = join(dir, 'serviceaccount');
  mkdirSync(saDir);
  writeFileSync(join(saDir, 'token'), 'sa-token');
  writeFileSync(join(saDir, 'ca.crt'), 'not really a CA');
  writeFileSync(join(saDir, 'namespace'), 'balanced-system');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
const server = (kc: KubeConfig): string | undefined => kc.getCurrentCluster()?.server;

describe('loadKubeConfig precedence: flag > KUBECONFIG > in-cluster > ~/.kube/config', () => {
  const cases: Array<{ name: string; flag?: () => string; env: () => NodeJS.ProcessEnv; sa?: () => string; want: string }> = [
    {
      name: 'the flag beats everything',
      flag: () => flagFile,
      env: () => ({ KUBECONFIG: envFile, ...inCluster, HOME: home }),
      sa: () => saDir,
      want: 'http://flag.test:1',
    },
    { name: 'KUBECONFIG beats in-cluster and home', env: () => ({ KUBECONFIG: envFile, ...inCluster, HOME: home }), sa: () => saDir, want: 'http://env.test:2' },
    {
      name: 'KUBECONFIG list: missing files are skipped',
      env: () => ({ KUBECONFIG: [noFile(), envFile2].join(delimiter), HOME: home }),
      want: 'http://env2.test:3',
    },
    {
      name: "KUBECONFIG list: the first file's current-context wins",
      env: () => ({ KUBECONFIG: [envFile, envFile2].join(delimiter), HOME: home }),
      want: 'http://env.test:2',
    },
    { name: 'in-cluster beats home', env: () => ({ ...inCluster, HOME: home }), sa: () => saDir, want: 'https://10.96.0.1:443' },
    {
      name: 'in-cluster, IPv6 service host',
      env: () => ({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }),
      sa: () => saDir,
      want: 'https://[fd00::1]:6443',
    },
    { name: 'in-cluster env without a token file falls through to home', env: () => ({ ...inCluster, HOME: home }), sa: () => join(dir, 'nope'), want: 'http://home.test:4' },
    { name: 'home when nothing else', env: () => ({ HOME: home }), sa: () => saDir, want: 'http://home.test:4' },
    { name: 'an empty flag counts as not given', flag: () => '', env: () => ({ HOME: home }), want: 'http://home.test:4' },
  ];

  it.each(cases)('$name', ({ flag, env, sa, want }) => {
    const kc = loadKubeConfig({ kubeconfig: flag?.(), env: env(), serviceAccountDir: sa?.() ?? join(dir, 'nope') });
    expect(server(kc)).toBe(want);
  });

  it('in-cluster: namespace from the mount, token through the tokenFile provider, CA file', async () => {
    const kc = loadKubeConfig({ env: inCluster, serviceAccountDir: saDir });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('balanced-system');
    expect(kc.getCurrentCluster()).toMatchObject({ caFile: join(saDir, 'ca.crt'), skipTLSVerify: false });
    const user = kc.getCurrentUser();
    expect(user?.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: join(saDir, 'token') } });
    const request = await kc.applyToFetchOptions({});
    // (typed as node-fetch's HeadersInit; client-node fills in a Headers object)
    expect((request.headers as unknown as { get(name: string): string | null }).get('authorization')).toBe('Bearer sa-token');
  });
});

describe('loadKubeConfig errors name what was tried', () => {
  function failure(run: () => unknown): KubeConfigError {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(KubeConfigError);
      return err as KubeConfigError;
    }
    throw new Error('expected loadKubeConfig to throw');
  }

  it('nothing configured', () => {
    const err = failure(() => loadKubeConfig({ env: { HOME: join(dir, 'empty-home') }, serviceAccountDir: join(dir, 'nope') }));
    expect(err.tried).toEqual([
      '--kubeconfig: not given',
      'KUBECONFIG: not set',
      'in-cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT not set',
      `${join(dir, 'empty-home', '.kube', 'config')}: no such file`,
    ]);
    expect(err.message).toContain('no usable Kubernetes configuration');
    expect(err.message).toContain('KUBECONFIG: not set');
  });

  it('in-cluster env but no token, and no home config', () => {
    const err = failure(() => loadKubeConfig({ env: { ...inCluster, HOME: join(dir, 'empty-home') }, serviceAccountDir: join(dir, 'nope') }));
    expect(err.tried[2]).toBe(`in-cluster: ${join(dir, 'nope', 'token')}: no such file`);
  });

  it('a --kubeconfig that does not exist is an error, not a fallback', () => {
    const err = failure(() => loadKubeConfig({ kubeconfig: noFile(), env: { HOME: home } }));
    expect(err.tried).toHaveLength(1);
    expect(err.message).toContain(`--kubeconfig ${noFile()}`);
    expect(err.message).toMatch(/ENOENT/);
  });

  it('KUBECONFIG naming only missing files is an error, not a fallback', () => {
    const err = failure(() => loadKubeConfig({ env: { KUBECONFIG: noFile(), HOME: home } }));
    expect(err.tried.at(-1)).toBe(`KUBECONFIG=${noFile()}: no such file`);
  });

  it('a file whose current-context names no cluster', () => {
    const file = join(dir, 'no-context.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    const err = failure(() => loadKubeConfig({ kubeconfig: file }));
    expect(err.tried).toEqual([`--kubeconfig ${file}: current-context (unset) names no cluster`]);
  });

  it('a file that is not YAML', () => {
    const file = join(dir, 'garbage.yaml');
    writeFileSync(file, '{{{ not yaml');
    const err = failure(() => loadKubeConfig({ env: { KUBECONFIG: file } }));
    expect(err.tried.at(-1)).toMatch(new RegExp(`^KUBECONFIG=${file}: `));
  });
});
