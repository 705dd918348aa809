// Pure: where a sandbox's network namespace is, from the verbose PodSandboxStatus `info` map.
// containerd and CRI-O both put a JSON document under "info" holding the sandbox's OCI
// runtime spec ("runtimeSpec"); containerd adds "pid" and "netNamespaceClosed", CRI-O adds
// "pid" unless the sandbox has no infra process.
import { field, list } from '../pod-view.js';

export type SandboxNetns =
  /** Paths to try, best first: the runtime's pinned namespace file, then /proc/<pid>/ns/net. */
  | { readonly kind: 'paths'; readonly paths: readonly string[] }
  /** The sandbox has no namespace of its own (host network) or it was closed: nothing to program. */
  | { readonly kind: 'none'; readonly why: string }
  /** The runtime said nothing we can use. */
  | { readonly kind: 'unknown'; readonly why: string };

export function sandboxNetns(info: Readonly<Record<string, string>>, procRoot: string): SandboxNetns {
  const text = info['info'];
  if (text === undefined) return { kind: 'unknown', why: 'the verbose sandbox status has no "info" entry' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { kind: 'unknown', why: 'the sandbox "info" entry is not JSON' };
  }
  if (field(doc, 'netNamespaceClosed') === true) return { kind: 'none', why: 'the runtime closed the sandbox network namespace' };
  const paths: string[] = [];
  const namespaces = field(field(field(doc, 'runtimeSpec'), 'linux'), 'namespaces');
  if (Array.isArray(namespaces)) {
    const network = list(namespaces).find((n) => field(n, 'type') === 'network');
    // In an OCI spec, no network entry means "stay in the runtime's namespace": host network.
    if (network === undefined) return { kind: 'none', why: 'the sandbox shares the host network namespace' };
    const path = field(network, 'path');
    if (typeof path === 'string' && path.startsWith('/')) paths.push(...withRunAlias(path));
  }
  const pid = field(doc, 'pid');
  if (typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0) paths.push(`${procRoot}/${pid}/ns/net`);
  return paths.length > 0 ? { kind: 'paths', paths } : { kind: 'unknown', why: 'the sandbox info names neither a network namespace path nor a pid' };
}

/** /var/run is /run on current distributions; a container may have mounted either. */
function withRunAlias(path: string): string[] {
  if (path.startsWith('/var/run/')) return [path, path.slice('/var'.length)];
  if (path.startsWith('/run/')) return [path, `/var${path}`];
  return [path];
}
