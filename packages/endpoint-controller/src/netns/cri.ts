import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition, type PackageDefinition } from '@grpc/proto-loader';
import { field, list, text, type PodRef } from '../pod-view.js';
import { sandboxNetns } from './cri-info.js';
import type { PodNetnsResolver } from './resolver.js';

/** Our subset of k8s.io/cri-api runtime/v1 (shipped with the package, loaded at runtime). */
export const CRI_PROTO_PATH = fileURLToPath(new URL('../../proto/cri-runtime-v1.proto', import.meta.url));
/** The fully qualified service name, as containerd and CRI-O register it. */
export const CRI_RUNTIME_SERVICE = 'runtime.v1.RuntimeService';
/** The sandbox label kubelet sets to the pod's UID. */
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';

/** Options both the client and a test server must load the .proto with. */
export const CRI_PROTO_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true } as const;

export function loadCriPackage(): PackageDefinition {
  return loadSync(CRI_PROTO_PATH, CRI_PROTO_OPTIONS);
}

export class CriError extends Error {
  override readonly name = 'CriError';
  constructor(
    readonly op: string,
    /** gRPC status code (14 = UNAVAILABLE: no runtime listening on the socket). */
    readonly code: number,
    detail: string,
  ) {
    super(`CRI ${op}: ${detail}`);
  }
}

export interface CriResolverOptions {
  /** The runtime's socket, e.g. /run/containerd/containerd.sock or /var/run/crio/crio.sock. */
  readonly socket: string;
  /** Where the host's /proc is, for sandboxes known by pid. Default /proc. */
  readonly procRoot?: string;
  /** Deadline of each call. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Whether a candidate path exists (default: fs.existsSync). */
  readonly exists?: (path: string) => boolean;
}

type Method = MethodDefinition<object, object>;

/**
 * The default resolver: asks the node's CRI runtime (containerd, CRI-O) over its gRPC socket.
 * ListPodSandbox(label io.kubernetes.pod.uid=<uid>, state READY) → the newest sandbox →
 * PodSandboxStatus(verbose) → the network namespace in the runtime's info document.
 */
export class CriResolver implements PodNetnsResolver {
  readonly name: string;
  private readonly client: Client;
  private readonly listSandboxes: Method;
  private readonly sandboxStatus: Method;
  private readonly procRoot: string;
  private readonly timeoutMs: number;
  private readonly exists: (path: string) => boolean;

  constructor(options: CriResolverOptions) {
    this.name = `cri unix://${options.socket}`;
    this.procRoot = options.procRoot ?? '/proc';
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.exists = options.exists ?? existsSync;
    const service = loadCriPackage()[CRI_RUNTIME_SERVICE];
    const methods = (service ?? {}) as Record<string, unknown>;
    const listMethod = methods['ListPodSandbox'];
    const statusMethod = methods['PodSandboxStatus'];
    if (!isMethod(listMethod) || !isMethod(statusMethod)) throw new Error(`${CRI_PROTO_PATH} does not define ${CRI_RUNTIME_SERVICE}`);
    this.listSandboxes = listMethod;
    this.sandboxStatus = statusMethod;
    this.client = new Client(`unix://${options.socket}`, credentials.createInsecure());
  }

  async resolve(pod: PodRef): Promise<string | null> {
    if (pod.uid === '') return null;
    const listed = await this.call(this.listSandboxes, {
      filter: { labelSelector: { [POD_UID_LABEL]: pod.uid }, state: { state: 'SANDBOX_READY' } },
    });
    // Newest ready sandbox of this pod (a runtime that ignores the filter is filtered here).
    let best: { id: string; created: bigint } | undefined;
    for (const item of list(field(listed, 'items'))) {
      const id = text(field(item, 'id'));
      const uid = text(field(field(item, 'metadata'), 'uid'));
      const labelUid = text(field(field(item, 'labels'), POD_UID_LABEL));
      if (id === '' || field(item, 'state') !== 'SANDBOX_READY' || (uid !== pod.uid && labelUid !== pod.uid)) continue;
      const created = toBigInt(field(item, 'createdAt'));
      if (best === undefined || created > best.created) best = { id, created };
    }
    if (best === undefined) return null;
    const status = await this.call(this.sandboxStatus, { podSandboxId: best.id, verbose: true });
    const info: Record<string, string> = {};
    const raw = field(status, 'info');
    if (typeof raw === 'object' && raw !== null) for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') info[k] = v;
    const where = sandboxNetns(info, this.procRoot);
    if (where.kind === 'none') return null;
    if (where.kind === 'unknown') throw new CriError('PodSandboxStatus', grpcStatus.UNKNOWN, `sandbox ${best.id}: ${where.why}`);
    return where.paths.find((p) => this.exists(p)) ?? null;
  }

  close(): void {
    this.client.close();
  }

  private call(method: Method, request: object): Promise<unknown> {
    const op = method.path.slice(method.path.lastIndexOf('/') + 1);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        { deadline: Date.now() + this.timeoutMs },
        (error: ServiceError | null, value?: object) => {
          if (error) reject(new CriError(op, error.code, error.details || error.message));
          else resolve(value);
        },
      );
    });
  }
}

function isMethod(value: unknown): value is Method {
  return typeof value === 'object' && value !== null && typeof (value as { path?: unknown }).path === 'string';
}

function toBigInt(value: unknown): bigint {
  try {
    return typeof value === 'string' || typeof value === 'number' ? BigInt(value) : 0n;
  } catch {
    return 0n;
  }
}
