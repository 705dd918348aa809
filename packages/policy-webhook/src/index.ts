// The policy admission webhook: startWebhook runs it (HTTPS server, certificate reload, metrics) as the binary does.
export { startWebhook, type RunningWebhook, type WebhookConfig } from './app.js';
