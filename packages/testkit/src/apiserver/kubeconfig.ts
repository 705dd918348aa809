// A kubeconfig pointing at a test API server: plain HTTP, a bearer token (by default the
// admin token, unrestricted; or a ServiceAccount's, see TestApiServer.serviceAccountKubeConfig).
// client-node refuses an http:// server unless skipTLSVerify is set ("HTTP protocol is not
// allowed when skipTLSVerify is not set or false"), so both forms set it.

import { KubeConfig } from '@kubernetes/client-node';

export const KUBECONFIG_NAME = 'testkit';
export const KUBECONFIG_TOKEN = 'testkit-token';

export function testKubeConfig(server: string, namespace = 'default', token: string = KUBECONFIG_TOKEN): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: KUBECONFIG_NAME, server, skipTLSVerify: true }],
    users: [{ name: KUBECONFIG_NAME, token }],
    contexts: [{ name: KUBECONFIG_NAME, cluster: KUBECONFIG_NAME, user: KUBECONFIG_NAME, namespace }],
    currentContext: KUBECONFIG_NAME,
  });
  return kc;
}

/** The same config as kubeconfig YAML text (strings JSON-quoted, which YAML accepts). */
export function testKubeconfigYaml(server: string, namespace = 'default', token: string = KUBECONFIG_TOKEN): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(KUBECONFIG_NAME)}`,
    '  cluster:',
    `    server: ${q(server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${q(KUBECONFIG_NAME)}`,
    '  user:',
    `    token: ${q(token)}`,
    'contexts:',
    `- name: ${q(KUBECONFIG_NAME)}`,
    '  context:',
    `    cluster: ${q(KUBECONFIG_NAME)}`,
    `    user: ${q(KUBECONFIG_NAME)}`,
    `    namespace: ${q(namespace)}`,
    `current-context: ${q(KUBECONFIG_NAME)}`,
    '',
  ].join('\n');
}
