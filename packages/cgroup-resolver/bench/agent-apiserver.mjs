// The test API server for agent.bench.mjs, in its own process so that its CPU and memory do
// not count against the agent's. Listens on 127.0.0.1 only; prints {"url", "populateMs"} once
// populated (N Services, N EndpointSlices, one Node); exits when its stdin closes.
//   node bench/agent-apiserver.mjs <services> <endpointsPerService>
import { TestApiServer } from '@balanced/testkit';
import { initialEndpoints, node, service, slice } from './agent-workload.mjs';

const services = Number(process.argv[2]);
const dests = Number(process.argv[3]);
const server = await TestApiServer.start({ historySize: 10_000 });
const t0 = performance.now();
server.store.put('nodes', node());
for (let i = 0; i < services; i++) {
  server.store.put('services', service(i));
  server.store.put('endpointslices', slice(i, initialEndpoints(dests)));
}
process.stdout.write(JSON.stringify({ url: server.url, populateMs: performance.now() - t0 }) + '\n');
// The server records every request it serves; the bench's 1,000 PUTs would pile up there.
setInterval(() => server.clearRequests(), 5_000).unref();
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  process.exit(0);
});
