// AdmissionReview v1 (admission.k8s.io/v1) as the API server sends it and expects it back.
// Reading is defensive: a body that is not a v1 AdmissionReview with a request uid is refused
// (HTTP 400), which the API server treats as a failed call (failurePolicy decides).

import { asString, prop, show } from '@balanced/k8s';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface AdmissionRequest {
  readonly uid: string;
  /** request.kind: the kind of the object (group/version/kind). */
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly operation: Operation;
  readonly name: string;
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly dryRun: boolean;
}

export interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly value?: unknown;
}

/** The verdict on one request. */
export type Verdict =
  | { readonly allowed: true; readonly patch?: readonly JsonPatchOperation[]; readonly warnings?: readonly string[] }
  | { readonly allowed: false; readonly code: number; readonly reason: string; readonly message: string };

export interface AdmissionResponseBody {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
    readonly patchType?: 'JSONPatch';
    /** base64 of the JSON Patch. */
    readonly patch?: string;
    readonly warnings?: readonly string[];
  };
}

export function parseAdmissionReview(body: unknown): { ok: true; request: AdmissionRequest } | { ok: false; message: string } {
  if (prop(body, 'apiVersion') !== ADMISSION_API_VERSION || prop(body, 'kind') !== 'AdmissionReview') {
    return { ok: false, message: `expected an ${ADMISSION_API_VERSION} AdmissionReview, got apiVersion ${show(prop(body, 'apiVersion'))} kind ${show(prop(body, 'kind'))}: set admissionReviewVersions: ["v1"] in the webhook configuration` };
  }
  const request = prop(body, 'request');
  const uid = asString(prop(request, 'uid'));
  if (uid === undefined || uid === '') return { ok: false, message: 'the AdmissionReview has no request.uid' };
  const operation = OPERATIONS.find((o) => o === prop(request, 'operation'));
  if (operation === undefined) return { ok: false, message: `request.operation ${show(prop(request, 'operation'))} is not one of ${OPERATIONS.join(', ')}` };
  const kind = prop(request, 'kind');
  return {
    ok: true,
    request: {
      uid,
      kind: { group: asString(prop(kind, 'group')) ?? '', version: asString(prop(kind, 'version')) ?? '', kind: asString(prop(kind, 'kind')) ?? '' },
      operation,
      name: asString(prop(request, 'name')) ?? asString(prop(prop(prop(request, 'object'), 'metadata'), 'name')) ?? '',
      object: prop(request, 'object'),
      oldObject: prop(request, 'oldObject'),
      dryRun: prop(request, 'dryRun') === true,
    },
  };
}

export function admissionResponse(uid: string, verdict: Verdict): AdmissionResponseBody {
  if (!verdict.allowed) {
    return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, allowed: false, status: { code: verdict.code, reason: verdict.reason, message: verdict.message } } };
  }
  const patch = verdict.patch !== undefined && verdict.patch.length > 0 ? { patchType: 'JSONPatch' as const, patch: Buffer.from(JSON.stringify(verdict.patch)).toString('base64') } : {};
  const warnings = verdict.warnings !== undefined && verdict.warnings.length > 0 ? { warnings: verdict.warnings } : {};
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, allowed: true, ...patch, ...warnings } };
}
