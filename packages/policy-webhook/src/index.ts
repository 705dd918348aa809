export { ADMISSION_API_VERSION, admissionResponse, parseAdmissionReview, type AdmissionRequest, type AdmissionResponseBody, type JsonPatchOperation, type Operation, type Verdict } from './admission-review.js';
export { mutate, validate, type Decision, type DenialReason } from './review.js';
export { CertificateWatch, readKeyPair, type CertificateWatchOptions, type KeyPair } from './certificates.js';
export { WebhookMetrics, type Endpoint, type RequestResult } from './metrics.js';
export { MAX_BODY_BYTES, startWebhookServer, type WebhookServer, type WebhookServerOptions } from './server.js';
export { COMPONENT, startWebhook, type RunningWebhook, type WebhookConfig } from './app.js';
