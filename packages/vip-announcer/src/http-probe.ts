// The default controller probe: GET the ipvs-controller's /readyz; 2xx = ready.
import { request } from 'node:http';
import type { ControllerProbe } from './health-gate.js';

export function httpReadyProbe(url: string): ControllerProbe {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new RangeError(`controller readiness URL must be http://, got ${url}`);
  return (signal) =>
    new Promise((resolve) => {
      const req = request(target, { method: 'GET', agent: false, signal }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 500) body += d;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, detail: `${url}: HTTP ${status} ${body.trim().slice(0, 200)}` });
        });
        res.on('error', (e) => resolve({ ok: false, detail: `${url}: ${e.message}` }));
      });
      req.on('error', (e) => resolve({ ok: false, detail: `${url}: ${e.message}` }));
      req.end();
    });
}
