// How a set of exchanges went: failures by error code, and connections that kept their pod.
import { endpointKey, failureCounts, succeeded } from '@balanced/testkit';

export const failures = (exchanges) => Object.entries(failureCounts(exchanges)).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none';

/** How many connections answered again from the pod that answered first. */
export function samePod(opened, pinged) {
  const first = new Map(succeeded(opened).map((e) => [endpointKey(e.client), e.server.pod]));
  return succeeded(pinged).filter((e) => first.get(endpointKey(e.client)) === e.server.pod).length;
}
