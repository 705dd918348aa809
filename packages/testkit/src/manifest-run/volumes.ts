// A pod's volumes and a container's volumeMounts as the kubelet provides them (pure):
// hostPath (a bind mount of the node's path, with its type check), emptyDir (a folder per pod
// shared by its containers), configMap and secret (files written from the objects, mounted
// read-only), and the ServiceAccount token volume every container gets.

import { findObject, list, objectData, optionalBoolean, optionalInteger, optionalString, record, type Fields } from './manifest.js';
import { ManifestRunError, type FilePlan, type HostPathType, type MountPlan, type MountPropagation, type VolumePlan } from './types.js';

/** Where the kubelet mounts a pod's ServiceAccount token (automountServiceAccountToken). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The name of that volume in a plan (not a name a manifest can use: it has a slash-free `~`). */
export const SERVICE_ACCOUNT_VOLUME = '~serviceaccount';

const HOST_PATH_TYPES: readonly HostPathType[] = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

function keyFiles(kind: 'ConfigMap' | 'Secret', source: Fields, objects: readonly Fields[], namespace: string, where: string): FilePlan[] | undefined {
  const name = optionalString(source[kind === 'ConfigMap' ? 'name' : 'secretName'], `${where}.name`) ?? '';
  const optional = optionalBoolean(source['optional'], `${where}.optional`) ?? false;
  const defaultMode = optionalInteger(source['defaultMode'], `${where}.defaultMode`) ?? 0o644;
  const obj = findObject(objects, kind, namespace, name);
  if (obj === undefined) {
    if (optional) return [];
    throw new ManifestRunError(`${where}: no ${kind} ${namespace}/${name}`);
  }
  const data = objectData(obj, kind);
  const items = list(source['items'], `${where}.items`);
  if (items.length === 0) return [...data].map(([path, content]) => ({ path, content, mode: defaultMode }));
  return items.map((item, i) => {
    const key = optionalString(item['key'], `${where}.items[${i}].key`) ?? '';
    const content = data.get(key);
    if (content === undefined) throw new ManifestRunError(`${where}.items[${i}]: ${kind} ${namespace}/${name} has no key ${JSON.stringify(key)}`);
    const path = optionalString(item['path'], `${where}.items[${i}].path`) ?? key;
    return { path, content, mode: optionalInteger(item['mode'], `${where}.items[${i}].mode`) ?? defaultMode };
  });
}

/** The pod's volumes (spec.volumes); a kind the runner cannot provide is refused. */
export function podVolumes(podSpec: Fields, objects: readonly Fields[], namespace: string): VolumePlan[] {
  const out: VolumePlan[] = [];
  for (const [i, v] of list(podSpec['volumes'], 'spec.volumes').entries()) {
    const name = optionalString(v['name'], `spec.volumes[${i}].name`) ?? '';
    const where = `spec.volumes[${name}]`;
    if (name === '') throw new ManifestRunError(`spec.volumes[${i}]: no name`);
    if (out.some((o) => o.name === name)) throw new ManifestRunError(`${where}: two volumes with this name`);
    if (v['hostPath'] !== undefined) {
      const hp = record(v['hostPath'], `${where}.hostPath`);
      const path = optionalString(hp['path'], `${where}.hostPath.path`) ?? '';
      const type = (optionalString(hp['type'], `${where}.hostPath.type`) ?? '') as HostPathType;
      if (!path.startsWith('/')) throw new ManifestRunError(`${where}.hostPath.path: not an absolute path: ${JSON.stringify(path)}`);
      if (!HOST_PATH_TYPES.includes(type)) throw new ManifestRunError(`${where}.hostPath.type: unknown type ${JSON.stringify(type)}`);
      out.push({ name, kind: 'hostPath', path, type });
    } else if (v['emptyDir'] !== undefined) {
      out.push({ name, kind: 'emptyDir' });
    } else if (v['configMap'] !== undefined || v['secret'] !== undefined) {
      const kind = v['configMap'] !== undefined ? 'ConfigMap' : 'Secret';
      const source = record(v[kind === 'ConfigMap' ? 'configMap' : 'secret'], `${where}.${kind === 'ConfigMap' ? 'configMap' : 'secret'}`);
      const files = keyFiles(kind, source, objects, namespace, `${where}.${kind === 'ConfigMap' ? 'configMap' : 'secret'}`) ?? [];
      out.push({ name, kind: 'files', files, source: `${kind} ${namespace}/${String(source[kind === 'ConfigMap' ? 'name' : 'secretName'])}` });
    } else {
      const kinds = Object.keys(v).filter((k) => k !== 'name');
      throw new ManifestRunError(`${where}: volume kind ${kinds.join(', ') || '(none)'} is not supported by the runner (hostPath, emptyDir, configMap, secret)`);
    }
  }
  return out;
}

/**
 * The volumes with some hostPath volumes pointed at another node path, by volume name: what a
 * test substitutes for the node's (a test-made cgroup for /sys/fs/cgroup, a test-made bpffs
 * folder for /sys/fs/bpf) without touching the container's args or mounts. Only hostPath
 * volumes the manifest declares may be remapped; the volume's type check then applies to the
 * new path.
 */
export function remapHostPaths(volumes: readonly VolumePlan[], overrides: Readonly<Record<string, string>>): VolumePlan[] {
  for (const [name, path] of Object.entries(overrides)) {
    const v = volumes.find((x) => x.name === name);
    if (v === undefined) throw new ManifestRunError(`hostPath override ${name}: the manifest declares no such volume`);
    if (v.kind !== 'hostPath') throw new ManifestRunError(`hostPath override ${name}: a ${v.kind} volume, not a hostPath`);
    if (!path.startsWith('/')) throw new ManifestRunError(`hostPath override ${name}: not an absolute path: ${JSON.stringify(path)}`);
  }
  return volumes.map((v) => (v.kind === 'hostPath' && overrides[v.name] !== undefined ? { ...v, path: overrides[v.name]! } : v));
}

/** The ServiceAccount volume: token, namespace and (the runner's one difference) a kubeconfig. */
export function serviceAccountVolume(token: string, namespace: string, kubeconfig: string): VolumePlan {
  return {
    name: SERVICE_ACCOUNT_VOLUME,
    kind: 'files',
    source: 'ServiceAccount token',
    files: [
      { path: 'token', content: token, mode: 0o644 },
      { path: 'namespace', content: namespace, mode: 0o644 },
      { path: 'kubeconfig', content: kubeconfig, mode: 0o644 },
    ],
  };
}

const PROPAGATIONS: readonly MountPropagation[] = ['None', 'HostToContainer', 'Bidirectional'];

/** A container's volumeMounts, checked against the pod's volumes; configMap/secret mounts are read-only. */
export function containerMounts(container: Fields, volumes: readonly VolumePlan[], where: string): MountPlan[] {
  const out: MountPlan[] = [];
  for (const [i, m] of list(container['volumeMounts'], `${where}.volumeMounts`).entries()) {
    const at = `${where}.volumeMounts[${i}]`;
    const volume = optionalString(m['name'], `${at}.name`) ?? '';
    const containerPath = optionalString(m['mountPath'], `${at}.mountPath`) ?? '';
    const v = volumes.find((x) => x.name === volume);
    if (v === undefined) throw new ManifestRunError(`${at}: no volume named ${JSON.stringify(volume)} in spec.volumes`);
    if (!containerPath.startsWith('/')) throw new ManifestRunError(`${at}.mountPath: not an absolute path: ${JSON.stringify(containerPath)}`);
    if (out.some((o) => o.containerPath === containerPath)) throw new ManifestRunError(`${at}.mountPath: ${containerPath} is mounted twice`);
    const propagation = (optionalString(m['mountPropagation'], `${at}.mountPropagation`) ?? 'None') as MountPropagation;
    if (!PROPAGATIONS.includes(propagation)) throw new ManifestRunError(`${at}.mountPropagation: unknown ${JSON.stringify(propagation)}`);
    const subPath = optionalString(m['subPath'], `${at}.subPath`) ?? '';
    if (subPath.startsWith('/') || subPath.split('/').includes('..')) throw new ManifestRunError(`${at}.subPath: must be a relative path without ..`);
    const readOnly = (optionalBoolean(m['readOnly'], `${at}.readOnly`) ?? false) || v.kind === 'files';
    out.push({ volume, containerPath, subPath, readOnly, propagation });
  }
  return out;
}
