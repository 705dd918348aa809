export type { Endpoint, ServerView, TcpExchange, UdpExchange } from './types.js';
export { endpointKey } from './types.js';
export { podShares, failureCounts, succeeded } from './summary.js';
export { startPodServer, type PodServer, type PodServerOptions } from './pod-server.js';
export {
  startTrafficClient,
  type TrafficClient,
  type TcpBurstOptions,
  type UdpOptions,
  type PingOptions,
  type LongLivedConnections,
  type TimedExchanges,
} from './traffic-client.js';
export { POD_SERVER_SCRIPT } from './pod-server-script.js';
export { CLIENT_AGENT_SCRIPT } from './client-agent-script.js';
