// A workload's pod as the kubelet would start it, from its manifest (pure): per container the
// image's config under the manifest's command/args (Kubernetes' rules: `command` replaces the
// entrypoint and drops the image's cmd, `args` replaces the cmd), the environment with the
// downward API filled in, user, group and capabilities, mounts, ports and probes.

import { containerEnv, expandReferences, mergeEnv, parseEnvEntries, type EnvContext } from './env.js';
import { list, optionalBoolean, optionalInteger, optionalString, podTemplate, record, strings, objectKey, type Fields } from './manifest.js';
import { containerSecurity, setprivCapability } from './security.js';
import { ManifestRunError, type ContainerPlan, type ImageConfig, type PodFacts, type PodLaunchPlan, type PortPlan, type ProbePlan } from './types.js';
import { containerMounts, podVolumes, remapHostPaths, SERVICE_ACCOUNT_DIR, SERVICE_ACCOUNT_VOLUME, serviceAccountVolume } from './volumes.js';

export interface PlanPodOptions {
  /** The DaemonSet, Deployment, StatefulSet, Job or Pod (e.g. from findWorkload). */
  readonly workload: Fields;
  /** Every other document (ConfigMaps and Secrets that volumes and env refer to). */
  readonly objects: readonly Fields[];
  /** The image a container names (`balanced/ipvs-controller:0.2.0`); throw for one that does not exist. */
  readonly image: (reference: string) => ImageConfig;
  readonly facts: PodFacts;
  /**
   * Environment values replaced per container name, as an overlay's patch would (e.g. the
   * router a director peers with): only names the manifest already sets may be replaced.
   */
  readonly envOverrides?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * hostPath volumes pointed at another node path, by volume name (remapHostPaths), e.g. a
   * test-made cgroup instead of /sys/fs/cgroup: the container mounts it where the manifest
   * says, with the manifest's args unchanged.
   */
  readonly hostPathOverrides?: Readonly<Record<string, string>>;
  /**
   * How the pod reaches the API server, the one thing that differs from a kubelet: the
   * ServiceAccount's token and a kubeconfig for it, mounted at SERVICE_ACCOUNT_DIR in every
   * container with KUBECONFIG pointing at it (the test API server speaks plain HTTP, so the
   * in-cluster config, which needs TLS, cannot be used). Absent: no token is mounted.
   */
  readonly apiAccess?: { readonly token: string; readonly kubeconfig: string };
}

/** The name, port number and protocol of each port a container declares. */
function containerPorts(container: Fields, where: string): PortPlan[] {
  return list(container['ports'], `${where}.ports`).map((p, i) => {
    const containerPort = optionalInteger(p['containerPort'], `${where}.ports[${i}].containerPort`);
    if (containerPort === undefined || containerPort < 1 || containerPort > 65535) throw new ManifestRunError(`${where}.ports[${i}]: containerPort must be 1..65535`);
    return { name: optionalString(p['name'], `${where}.ports[${i}].name`) ?? '', containerPort, protocol: optionalString(p['protocol'], `${where}.ports[${i}].protocol`) ?? 'TCP' };
  });
}

/** A port given by number or by the name of one of the container's ports. */
function probePort(value: unknown, ports: readonly PortPlan[], where: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536) return value;
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return Number(value);
    const named = ports.find((p) => p.name === value);
    if (named !== undefined) return named.containerPort;
    throw new ManifestRunError(`${where}.port: no container port named ${JSON.stringify(value)}`);
  }
  throw new ManifestRunError(`${where}.port: expected a port number or name`);
}

/** A probe as the kubelet runs it; httpGet/tcpSocket without host go to the pod's IP. */
function probe(value: unknown, ports: readonly PortPlan[], podIP: string, where: string): ProbePlan | undefined {
  if (value === undefined || value === null) return undefined;
  const p = record(value, where);
  const timing = {
    timeoutSeconds: optionalInteger(p['timeoutSeconds'], `${where}.timeoutSeconds`) ?? 1,
    periodSeconds: optionalInteger(p['periodSeconds'], `${where}.periodSeconds`) ?? 10,
    initialDelaySeconds: optionalInteger(p['initialDelaySeconds'], `${where}.initialDelaySeconds`) ?? 0,
  };
  if (p['httpGet'] !== undefined) {
    const h = record(p['httpGet'], `${where}.httpGet`);
    const scheme = optionalString(h['scheme'], `${where}.httpGet.scheme`) ?? 'HTTP';
    if (scheme !== 'HTTP' && scheme !== 'HTTPS') throw new ManifestRunError(`${where}.httpGet.scheme: ${scheme}`);
    return {
      kind: 'http',
      host: optionalString(h['host'], `${where}.httpGet.host`) ?? podIP,
      port: probePort(h['port'], ports, `${where}.httpGet`),
      path: optionalString(h['path'], `${where}.httpGet.path`) ?? '/',
      scheme,
      ...timing,
    };
  }
  if (p['tcpSocket'] !== undefined) {
    const t = record(p['tcpSocket'], `${where}.tcpSocket`);
    return { kind: 'tcp', host: optionalString(t['host'], `${where}.tcpSocket.host`) ?? podIP, port: probePort(t['port'], ports, `${where}.tcpSocket`), ...timing };
  }
  if (p['exec'] !== undefined) return { kind: 'exec', command: strings(record(p['exec'], `${where}.exec`)['command'], `${where}.exec.command`), ...timing };
  throw new ManifestRunError(`${where}: only httpGet, tcpSocket and exec probes are supported`);
}

function planContainer(container: Fields, spec: Fields, options: PlanPodOptions, ctx: EnvContext, volumes: PodLaunchPlan['volumes'], where: string): ContainerPlan {
  const name = optionalString(container['name'], `${where}.name`) ?? '';
  const reference = optionalString(container['image'], `${where}.image`);
  if (reference === undefined) throw new ManifestRunError(`${where}: no image`);
  const image = options.image(reference);
  let manifestEnv = containerEnv(container, ctx, where);
  for (const [key, value] of Object.entries(options.envOverrides?.[name] ?? {})) {
    if (!manifestEnv.some(([n]) => n === key)) throw new ManifestRunError(`${where}: env override ${key}: the manifest sets no such variable`);
    manifestEnv = manifestEnv.map(([n, v]) => [n, n === key ? value : v]);
  }
  if (options.apiAccess !== undefined) manifestEnv = mergeEnv(manifestEnv, [['KUBECONFIG', `${SERVICE_ACCOUNT_DIR}/kubeconfig`]]);
  const lookup = new Map(manifestEnv);
  const expand = (args: readonly string[]): string[] => args.map((a) => expandReferences(a, (n) => lookup.get(n)));
  const command = container['command'] === undefined ? undefined : strings(container['command'], `${where}.command`);
  const args = container['args'] === undefined ? undefined : strings(container['args'], `${where}.args`);
  // Kubernetes: command replaces the entrypoint (and the image's cmd with it); args replace cmd.
  const argv = [...(command === undefined ? image.entrypoint : expand(command)), ...(args === undefined ? (command === undefined ? image.cmd : []) : expand(args))];
  if (argv.length === 0) throw new ManifestRunError(`${where}: neither the manifest nor image ${image.image} gives a command`);
  const security = containerSecurity(container, spec, image, where);
  const mounts = containerMounts(container, volumes, where);
  const bidirectional = mounts.find((m) => m.propagation === 'Bidirectional');
  if (bidirectional !== undefined && !security.privileged) throw new ManifestRunError(`${where}: mountPropagation Bidirectional at ${bidirectional.containerPath} needs a privileged container`);
  if (options.apiAccess !== undefined) mounts.push({ volume: SERVICE_ACCOUNT_VOLUME, containerPath: SERVICE_ACCOUNT_DIR, subPath: '', readOnly: true, propagation: 'None' });
  const ports = containerPorts(container, where);
  const preStop = record(record(container['lifecycle'], `${where}.lifecycle`)['preStop'], `${where}.lifecycle.preStop`);
  if (Object.keys(preStop).length > 0 && preStop['exec'] === undefined) throw new ManifestRunError(`${where}.lifecycle.preStop: only exec hooks are supported`);
  const readinessProbe = probe(container['readinessProbe'], ports, ctx.facts.podIP, `${where}.readinessProbe`);
  const livenessProbe = probe(container['livenessProbe'], ports, ctx.facts.podIP, `${where}.livenessProbe`);
  return {
    name,
    image,
    argv,
    env: mergeEnv(parseEnvEntries(image.env, `image ${image.image}`), manifestEnv),
    workingDir: optionalString(container['workingDir'], `${where}.workingDir`) ?? (image.workingDir === '' ? '/' : image.workingDir),
    uid: security.uid,
    gid: security.gid,
    privileged: security.privileged,
    capabilities: security.capabilities.map(setprivCapability),
    noNewPrivileges: security.noNewPrivileges,
    readOnlyRootFilesystem: security.readOnlyRootFilesystem,
    mounts,
    ports,
    ...(readinessProbe === undefined ? {} : { readinessProbe }),
    ...(livenessProbe === undefined ? {} : { livenessProbe }),
    ...(preStop['exec'] === undefined ? {} : { preStop: strings(record(preStop['exec'], `${where}.lifecycle.preStop.exec`)['command'], `${where}.lifecycle.preStop.exec.command`) }),
  };
}

/** The launch plan of one pod of `options.workload`; throws ManifestRunError for what cannot run. */
export function planPod(options: PlanPodOptions): PodLaunchPlan {
  const { metadata, spec } = podTemplate(options.workload);
  const workloadMeta = record(options.workload['metadata'], 'metadata');
  const namespace = options.facts.namespace ?? optionalString(workloadMeta['namespace'], 'metadata.namespace') ?? 'default';
  const serviceAccountName = optionalString(spec['serviceAccountName'], 'spec.serviceAccountName') ?? 'default';
  const hostNetwork = optionalBoolean(spec['hostNetwork'], 'spec.hostNetwork') ?? false;
  // With hostNetwork the pod's IP is the node's (the downward API and the probes see that).
  const podIP = hostNetwork ? options.facts.hostIP : options.facts.podIP;
  const facts = { ...options.facts, podIP, namespace, serviceAccountName };
  const ctx: EnvContext = { facts, metadata, objects: options.objects };
  const volumes = remapHostPaths(podVolumes(spec, options.objects, namespace), options.hostPathOverrides ?? {});
  const automount = optionalBoolean(spec['automountServiceAccountToken'], 'spec.automountServiceAccountToken') ?? true;
  const withToken: PlanPodOptions = automount ? options : { ...options, apiAccess: undefined };
  if (automount && options.apiAccess !== undefined) volumes.push(serviceAccountVolume(options.apiAccess.token, namespace, options.apiAccess.kubeconfig));
  const plan = (key: 'initContainers' | 'containers'): ContainerPlan[] =>
    list(spec[key], `spec.${key}`).map((c, i) => planContainer(c, spec, withToken, ctx, volumes, `spec.${key}[${typeof c['name'] === 'string' ? c['name'] : i}]`));
  const containers = plan('containers');
  if (containers.length === 0) throw new ManifestRunError('spec.containers: none');
  const initContainers = plan('initContainers');
  const names = [...initContainers, ...containers].map((c) => c.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new ManifestRunError(`two containers named ${JSON.stringify(twice)}`);
  // Containers of a pod share its network namespace: one port, one container.
  const ports = containers.flatMap((c) => c.ports.map((p) => ({ c: c.name, key: `${p.protocol}/${p.containerPort}` })));
  const clash = ports.find((p, i) => ports.findIndex((q) => q.key === p.key) !== i);
  if (clash !== undefined) throw new ManifestRunError(`port ${clash.key} is declared by two containers of the pod`);
  return {
    workload: objectKey(options.workload),
    podName: options.facts.podName,
    namespace,
    nodeName: options.facts.nodeName,
    podIP,
    serviceAccountName,
    hostNetwork,
    hostPID: optionalBoolean(spec['hostPID'], 'spec.hostPID') ?? false,
    terminationGracePeriodSeconds: optionalInteger(spec['terminationGracePeriodSeconds'], 'spec.terminationGracePeriodSeconds') ?? 30,
    volumes,
    initContainers,
    containers,
  };
}
