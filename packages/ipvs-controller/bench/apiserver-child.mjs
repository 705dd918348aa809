// The test API server for controller.bench.mjs, in its own process so the controller's RSS
// is measured alone. Listens on 127.0.0.1 only; prints {"url": ...} once populated; exits
// when its stdin closes.
import { TestApiServer } from '@balanced/testkit';
import { initialEndpoints, service, slice } from './workload.mjs';

const services = Number(process.argv[2]);
const dests = Number(process.argv[3]);
const server = await TestApiServer.start({ historySize: 10_000 });
const t0 = performance.now();
for (let i = 0; i < services; i++) {
  server.store.put('services', service(i));
  server.store.put('endpointslices', slice(i, initialEndpoints(dests)));
}
process.stdout.write(JSON.stringify({ url: server.url, populateMs: performance.now() - t0 }) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  process.exit(0);
});
