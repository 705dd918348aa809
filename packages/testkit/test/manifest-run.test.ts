import { describe, expect, it } from '@jest/globals';

import {
  DEFAULT_CAPABILITIES,
  ManifestRunError,
  containerScript,
  effectiveCapabilities,
  expandReferences,
  findWorkload,
  identityArgv,
  planPod,
  probeArgv,
  readDeployDocuments,
  type ImageConfig,
  type PlanPodOptions,
} from '../src/index.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nnonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin\n';

function image(name: string, over: Partial<ImageConfig> = {}): ImageConfig {
  return {
    image: name,
    version: '0.2.0',
    rootfs: '/trees/node',
    user: '0:0',
    workingDir: '/app',
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production'],
    entrypoint: ['/usr/local/bin/node', `/app/packages/${name}/dist/main.js`],
    cmd: [],
    passwd: PASSWD,
    ...over,
  };
}

const IMAGES: Record<string, ImageConfig> = {
  'balanced/ipvs-controller:0.2.0': image('ipvs-controller'),
  'balanced/vip-allocator:0.2.0': image('vip-allocator', { user: '65532:65532' }),
  'balanced/vip-announcer:0.2.0': image('vip-announcer'),
  'balanced/endpoint-controller:0.2.0': image('endpoint-controller'),
  'balanced/cgroup-resolver:0.2.0': image('cgroup-resolver'),
  'balanced/policy-webhook:0.2.0': image('policy-webhook', { user: '65532:65532' }),
  'balanced/bird:2.0.12': image('bird', { rootfs: '/trees/bird', workingDir: '/', env: ['PATH=/usr/bin:/bin'], entrypoint: [], cmd: ['bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird/bird.ctl'] }),
};

const lookup = (ref: string): ImageConfig => {
  const found = IMAGES[ref];
  if (found === undefined) throw new ManifestRunError(`no image ${ref}`);
  return found;
};

const FACTS = { podName: 'p-1', nodeName: 'director-1', podIP: '10.244.0.5', hostIP: '10.202.1.2' };

/** A Deployment around one container (and optional pod spec fields). */
function deployment(container: Record<string, unknown>, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'w', namespace: 'ns' },
    spec: { template: { metadata: { labels: { app: 'w' } }, spec: { serviceAccountName: 'sa', containers: [{ name: 'c', image: 'balanced/vip-allocator:0.2.0', ...container }], ...spec } } },
  };
}

const plan = (workload: Record<string, unknown>, over: Partial<PlanPodOptions> = {}) => planPod({ workload, objects: [], image: lookup, facts: FACTS, ...over });

describe('$(VAR) expansion (Kubernetes rules)', () => {
  it.each([
    ['--ns=$(NS)', '--ns=prod'],
    ['$(MISSING) stays', '$(MISSING) stays'],
    ['$$(NS) is escaped', '$(NS) is escaped'],
    ['a $ alone and $$', 'a $ alone and $'],
    ['unterminated $(NS', 'unterminated $(NS'],
    ['$(NS)$(NS)', 'prodprod'],
  ])('%s → %s', (input, want) => {
    expect(expandReferences(input, (n) => (n === 'NS' ? 'prod' : undefined))).toBe(want);
  });
});

describe('capabilities: the runtime default set, drops, adds', () => {
  it('containerd’s 14 defaults when nothing is said', () => {
    expect(effectiveCapabilities([], [], false)).toHaveLength(14);
    expect(new Set(effectiveCapabilities([], [], false))).toEqual(new Set(DEFAULT_CAPABILITIES));
  });
  it('drop ALL + add gives exactly the adds; privileged gives every capability', () => {
    expect(effectiveCapabilities(['NET_ADMIN', 'NET_RAW'], ['ALL'], false)).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(effectiveCapabilities(['SYS_ADMIN'], ['NET_RAW'], false)).not.toContain('NET_RAW');
    expect(effectiveCapabilities([], ['ALL'], true)).toContain('BPF');
  });
});

describe('planPod: a pod as the kubelet would start it', () => {
  it('command replaces the entrypoint and drops the image cmd; args replace cmd; $(VAR) from the container env', () => {
    const p = plan(deployment({ image: 'balanced/bird:2.0.12', command: ['sh', '-c'], env: [{ name: 'X', value: 'y' }] }));
    expect(p.containers[0]!.argv).toEqual(['sh', '-c']);
    const q = plan(deployment({ image: 'balanced/bird:2.0.12', args: ['-d', '$(X)'], env: [{ name: 'X', value: 'y' }] }));
    expect(q.containers[0]!.argv).toEqual(['-d', 'y']);
    const r = plan(deployment({ args: ['--a=$(X)'], env: [{ name: 'X', value: 'y' }] }));
    expect(r.containers[0]!.argv).toEqual(['/usr/local/bin/node', '/app/packages/vip-allocator/dist/main.js', '--a=y']);
  });

  it('env: the image’s first, the manifest’s over it; fieldRef from the facts; $(VAR) only to earlier entries', () => {
    const p = plan(
      deployment({
        env: [
          { name: 'NODE_ENV', value: 'test' },
          { name: 'LATER', value: '$(EARLY)' },
          { name: 'EARLY', value: 'e' },
          { name: 'AGAIN', value: '$(EARLY)' },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      }),
    );
    expect(p.containers[0]!.env).toEqual([
      ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ['NODE_ENV', 'test'],
      ['LATER', '$(EARLY)'],
      ['EARLY', 'e'],
      ['AGAIN', 'e'],
      ['NODE', 'director-1'],
      ['IP', '10.244.0.5'],
      ['HOST', '10.202.1.2'],
      ['NS', 'ns'],
      ['NAME', 'p-1'],
      ['SA', 'sa'],
      ['APP', 'w'],
    ]);
  });

  it('hostNetwork: the pod IP is the node’s, for the downward API and the probes', () => {
    const p = plan(
      deployment({ env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }], ports: [{ name: 'metrics', containerPort: 9743 }], readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' } } }, { hostNetwork: true }),
    );
    expect(p.podIP).toBe('10.202.1.2');
    expect(p.containers[0]!.env).toContainEqual(['IP', '10.202.1.2']);
    expect(p.containers[0]!.readinessProbe).toEqual({ kind: 'http', host: '10.202.1.2', port: 9743, path: '/readyz', scheme: 'HTTP', timeoutSeconds: 1, periodSeconds: 10, initialDelaySeconds: 0 });
  });

  it('user: runAsUser over the image’s, its group from the image’s passwd; the pod’s securityContext under the container’s', () => {
    expect(plan(deployment({})).containers[0]).toMatchObject({ uid: 65532, gid: 65532 });
    expect(plan(deployment({ image: 'balanced/ipvs-controller:0.2.0', securityContext: { runAsUser: 65532 } })).containers[0]).toMatchObject({ uid: 65532, gid: 65532 });
    expect(plan(deployment({ image: 'balanced/ipvs-controller:0.2.0' }, { securityContext: { runAsUser: 1000, runAsGroup: 7 } })).containers[0]).toMatchObject({ uid: 1000, gid: 7 });
    expect(plan(deployment({ securityContext: { runAsUser: 5 } }, { securityContext: { runAsUser: 1000 } })).containers[0]).toMatchObject({ uid: 5, gid: 0 });
  });

  it('refuses what cannot run: runAsNonRoot as root, an unknown capability, a missing volume, a missing ConfigMap, an unknown fieldRef, an unknown image', () => {
    expect(() => plan(deployment({ image: 'balanced/ipvs-controller:0.2.0', securityContext: { runAsNonRoot: true } }))).toThrow(/runAsNonRoot is set and the container would run as root/);
    expect(() => plan(deployment({ securityContext: { capabilities: { add: ['NET_SUPERPOWER'] } } }))).toThrow(/unknown capability/);
    expect(() => plan(deployment({ volumeMounts: [{ name: 'nope', mountPath: '/x' }] }))).toThrow(/no volume named "nope"/);
    expect(() => plan(deployment({}, { volumes: [{ name: 'cfg', configMap: { name: 'absent' } }] }))).toThrow(/no ConfigMap ns\/absent/);
    expect(() => plan(deployment({ env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }] }))).toThrow(/not a field the downward API offers/);
    expect(() => plan(deployment({ image: 'balanced/nothing:1' }))).toThrow(/no image balanced\/nothing:1/);
    expect(() => plan(deployment({ securityContext: { privileged: true, allowPrivilegeEscalation: false } }))).toThrow(/allowPrivilegeEscalation: false/);
    expect(() => plan(deployment({}, { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'x' } }] }))).toThrow(/not supported by the runner/);
    expect(() => plan(deployment({ ports: [{ containerPort: 80 }] }, { containers: [{ name: 'a', image: 'balanced/vip-allocator:0.2.0', ports: [{ containerPort: 80 }] }, { name: 'b', image: 'balanced/vip-allocator:0.2.0', ports: [{ containerPort: 80 }] }] }))).toThrow(/port TCP\/80 is declared by two containers/);
  });

  it('volumes: configMap files read-only, emptyDir shared, hostPath with its type; the ServiceAccount token and KUBECONFIG with apiAccess', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'ns' }, data: { 'a.yaml': 'x: 1' } };
    const p = plan(
      deployment(
        { volumeMounts: [{ name: 'cfg', mountPath: '/etc/c' }, { name: 'scratch', mountPath: '/tmp' }, { name: 'lock', mountPath: '/run/xtables.lock', mountPropagation: 'HostToContainer' }] },
        { volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'scratch', emptyDir: {} }, { name: 'lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } }] },
      ),
      { objects: [cm], apiAccess: { token: 't0k', kubeconfig: 'kc' } },
    );
    expect(p.volumes).toEqual([
      { name: 'cfg', kind: 'files', files: [{ path: 'a.yaml', content: 'x: 1', mode: 0o644 }], source: 'ConfigMap ns/cfg' },
      { name: 'scratch', kind: 'emptyDir' },
      { name: 'lock', kind: 'hostPath', path: '/run/xtables.lock', type: 'FileOrCreate' },
      expect.objectContaining({ kind: 'files', source: 'ServiceAccount token' }),
    ]);
    expect(p.containers[0]!.mounts.map((m) => [m.containerPath, m.readOnly, m.propagation])).toEqual([
      ['/etc/c', true, 'None'],
      ['/tmp', false, 'None'],
      ['/run/xtables.lock', false, 'HostToContainer'],
      ['/var/run/secrets/kubernetes.io/serviceaccount', true, 'None'],
    ]);
    expect(p.containers[0]!.env).toContainEqual(['KUBECONFIG', '/var/run/secrets/kubernetes.io/serviceaccount/kubeconfig']);
  });

  it('hostPathOverrides point a declared hostPath volume elsewhere (type and mounts kept), and nothing else', () => {
    const w = deployment(
      { volumeMounts: [{ name: 'cgroup', mountPath: '/host/cgroup', readOnly: true }, { name: 'scratch', mountPath: '/tmp' }] },
      { volumes: [{ name: 'cgroup', hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } }, { name: 'scratch', emptyDir: {} }] },
    );
    const p = plan(w, { hostPathOverrides: { cgroup: '/sys/fs/cgroup/unified/test-1' } });
    expect(p.volumes).toEqual([{ name: 'cgroup', kind: 'hostPath', path: '/sys/fs/cgroup/unified/test-1', type: 'Directory' }, { name: 'scratch', kind: 'emptyDir' }]);
    expect(p.containers[0]!.mounts[0]).toEqual({ volume: 'cgroup', containerPath: '/host/cgroup', subPath: '', readOnly: true, propagation: 'None' });
    expect(p.containers[0]!.argv).toEqual(plan(w).containers[0]!.argv);
    expect(plan(w).volumes[0]).toMatchObject({ path: '/sys/fs/cgroup' });
    expect(() => plan(w, { hostPathOverrides: { bpffs: '/x' } })).toThrow(/hostPath override bpffs: the manifest declares no such volume/);
    expect(() => plan(w, { hostPathOverrides: { scratch: '/x' } })).toThrow(/hostPath override scratch: a emptyDir volume, not a hostPath/);
    expect(() => plan(w, { hostPathOverrides: { cgroup: 'relative' } })).toThrow(/not an absolute path/);
  });

  it('envOverrides replace a value the manifest sets, and nothing else', () => {
    const w = deployment({ env: [{ name: 'TOR_IP', value: '10.0.1.1' }] });
    expect(plan(w, { envOverrides: { c: { TOR_IP: '10.202.1.1' } } }).containers[0]!.env).toContainEqual(['TOR_IP', '10.202.1.1']);
    expect(() => plan(w, { envOverrides: { c: { OTHER: 'x' } } })).toThrow(/the manifest sets no such variable/);
  });
});

describe('the deploy/ manifests plan as written', () => {
  const docs = readDeployDocuments();
  const facts = { podName: 'p', nodeName: 'n', podIP: '10.0.0.9', hostIP: '10.0.0.1' };

  it('ipvs-controller: root, NET_ADMIN + NET_RAW only, read-only root, a privileged init container writing the sysctls', () => {
    const p = planPod({ workload: findWorkload(docs, 'balanced-ipvs-controller'), objects: docs, image: lookup, facts });
    const [c] = p.containers;
    expect(c).toMatchObject({ uid: 0, gid: 0, capabilities: ['net_admin', 'net_raw'], readOnlyRootFilesystem: true, noNewPrivileges: true, privileged: false });
    expect(c!.argv).toEqual(['/usr/local/bin/node', '/app/packages/ipvs-controller/dist/main.js', '--networking=host', '--metrics-host=127.0.0.1', '--metrics-host=10.0.0.1', '--metrics-port=9742']);
    expect(p.initContainers[0]).toMatchObject({ name: 'sysctls', privileged: true });
    expect(c!.readinessProbe).toMatchObject({ kind: 'http', host: '127.0.0.1', port: 9742 });
  });

  it('vip-announcer: two containers sharing the emptyDirs; BIRD as its command says with three capabilities', () => {
    const p = planPod({ workload: findWorkload(docs, 'balanced-vip-announcer'), objects: docs, image: lookup, facts });
    const bird = p.containers.find((c) => c.name === 'bird')!;
    expect(bird).toMatchObject({ argv: ['bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird/bird.ctl'], uid: 0, capabilities: ['net_bind_service', 'net_admin', 'net_raw'], preStop: ['sleep', '3'] });
    const announcer = p.containers.find((c) => c.name === 'vip-announcer')!;
    expect(announcer.capabilities).toEqual([]);
    expect(announcer.mounts.filter((m) => m.volume === 'bird-run' || m.volume === 'rendered').map((m) => m.containerPath)).toEqual(['/run/bird', '/run/balanced/bird']);
    expect(p.volumes.find((v) => v.name === 'bird-config')).toMatchObject({ kind: 'files', files: [expect.objectContaining({ path: 'bird.conf' })] });
  });

  it('vip-allocator: non-root 65532 with no capability; endpoint-controller: privileged, hostPID', () => {
    expect(planPod({ workload: findWorkload(docs, 'balanced-vip-allocator'), objects: docs, image: lookup, facts }).containers[0]).toMatchObject({ uid: 65532, gid: 65532, capabilities: [] });
    const ec = planPod({ workload: findWorkload(docs, 'balanced-endpoint-controller'), objects: docs, image: lookup, facts });
    expect(ec).toMatchObject({ hostPID: true, hostNetwork: true });
    expect(ec.containers[0]!.privileged).toBe(true);
  });
});

describe('the deploy/ manifests plan as written: cgroup-resolver and policy-webhook', () => {
  const docs = readDeployDocuments();
  const facts = { podName: 'p', nodeName: 'n', podIP: '10.0.0.9', hostIP: '10.0.0.1' };

  it('cgroup-resolver: root with exactly its six capabilities, hostPID + hostNetwork, the cgroup read-only and bpffs HostToContainer', () => {
    const p = planPod({ workload: findWorkload(docs, 'balanced-cgroup-resolver'), objects: docs, image: lookup, facts });
    expect(p).toMatchObject({ hostPID: true, hostNetwork: true });
    expect(p.containers[0]).toMatchObject({ uid: 0, privileged: false, capabilities: ['net_admin', 'sys_ptrace', 'sys_admin', 'sys_resource', 'perfmon', 'bpf'] });
    expect(p.containers[0]!.argv).toEqual(['/usr/local/bin/node', '/app/packages/cgroup-resolver/dist/main.js', '--cgroup=/host/cgroup', '--pin-root=/sys/fs/bpf/balanced', '--metrics-host=127.0.0.1', '--metrics-port=9745']);
    expect(p.containers[0]!.mounts.map((m) => [m.volume, m.containerPath, m.readOnly, m.propagation])).toEqual([
      ['cgroup', '/host/cgroup', true, 'None'],
      ['bpffs', '/sys/fs/bpf', false, 'HostToContainer'],
    ]);
    expect(p.volumes).toEqual([
      { name: 'cgroup', kind: 'hostPath', path: '/sys/fs/cgroup', type: 'Directory' },
      { name: 'bpffs', kind: 'hostPath', path: '/sys/fs/bpf', type: 'Directory' },
    ]);
  });

  it('policy-webhook: 65532 with no capability, read-only root, its TLS Secret mounted read-only, an HTTPS readiness probe on the pod IP', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'balanced-policy-webhook-tls', namespace: 'balanced-system' }, data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } };
    const workload = findWorkload(docs, 'balanced-policy-webhook');
    expect(() => planPod({ workload, objects: docs, image: lookup, facts })).toThrow(/no Secret balanced-system\/balanced-policy-webhook-tls/);
    const p = planPod({ workload, objects: [...docs, secret], image: lookup, facts });
    expect(p.containers[0]).toMatchObject({ uid: 65532, gid: 65532, capabilities: [], readOnlyRootFilesystem: true, noNewPrivileges: true });
    expect(p.volumes[0]).toEqual({ name: 'tls', kind: 'files', source: 'Secret balanced-system/balanced-policy-webhook-tls', files: [{ path: 'tls.crt', content: 'cert', mode: 0o644 }, { path: 'tls.key', content: 'key', mode: 0o644 }] });
    expect(p.containers[0]!.mounts[0]).toMatchObject({ containerPath: '/etc/balanced/webhook-tls', readOnly: true });
    expect(p.containers[0]!.readinessProbe).toMatchObject({ kind: 'http', scheme: 'HTTPS', host: '10.0.0.9', port: 9443, path: '/readyz' });
  });
});

describe('the container command', () => {
  const docs = readDeployDocuments();
  const p = planPod({ workload: findWorkload(docs, 'balanced-ipvs-controller'), objects: docs, image: lookup, facts: FACTS });
  const c = p.containers[0]!;

  it('identity: env -i with exactly the container env, setpriv with its uid/gid and exactly its capabilities', () => {
    expect(identityArgv(c, ['x'])).toEqual([
      '/usr/bin/env',
      '-i',
      ...c.env.map(([n, v]) => `${n}=${v}`),
      '/usr/bin/setpriv',
      '--reuid=0',
      '--regid=0',
      '--clear-groups',
      '--inh-caps=-all',
      '--ambient-caps=-all',
      '--bounding-set=-all,+net_admin,+net_raw',
      '--no-new-privs',
      '--',
      'x',
    ]);
  });

  it('the script: overlay root, /proc/sys read-only (not privileged), volume binds resolved inside the root, root read-only last', () => {
    const script = containerScript(p, c, { netns: '/run/netns/d1', stateDir: '/tmp/pod/c', volumeSources: new Map([['xtables-lock', '/run/xtables.lock'], ['tmp', '/tmp/pod/v/1']]), hostsFile: '/tmp/pod/hosts', hostnameFile: '/tmp/pod/hostname' });
    expect(script).toContain('mount -t overlay overlay -o lowerdir=/trees/node,upperdir="$S/upper",workdir="$S/work" "$R"');
    expect(script).toContain('for p in bus fs irq sys sysrq-trigger; do');
    expect(script).toContain('t=$(chroot "$R" /usr/bin/realpath -m -- "$2")');
    expect(script).toContain('bindmount /run/xtables.lock /run/xtables.lock rw None');
    const lines = script.trimEnd().split('\n');
    expect(lines.at(-2)).toBe('mount -o remount,bind,ro "$R"');
    expect(lines.at(-1)).toMatch(/^exec unshare --root="\$R" --wd=\/app -- \/usr\/bin\/env -i /);
    const init = p.initContainers[0]!;
    const privileged = containerScript(p, init, { netns: '/run/netns/d1', stateDir: '/tmp/pod/i', volumeSources: new Map(), hostsFile: '/h', hostnameFile: '/n' });
    expect(privileged).not.toContain('for p in bus fs irq sys');
    expect(privileged).toContain('mount --rbind /dev "$R/dev"');
  });

  it('probes: wget from the pod’s namespace, at least the given timeout', () => {
    expect(probeArgv(p, c, '/run/netns/d1', 42, c.readinessProbe!)).toEqual(['nsenter', '--net=/run/netns/d1', '--', 'busybox', 'wget', '-O', '-', 'http://127.0.0.1:9742/readyz']);
    // HTTPS as the kubelet probes it: the certificate is not verified.
    const https = { ...c.readinessProbe!, scheme: 'HTTPS' as const, host: '10.0.0.9', port: 9443 };
    expect(probeArgv(p, c, '/run/netns/w', 42, https)).toEqual(['nsenter', '--net=/run/netns/w', '--', 'busybox', 'wget', '--no-check-certificate', '-O', '-', 'https://10.0.0.9:9443/readyz']);
  });
});
