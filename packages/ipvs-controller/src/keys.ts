import { destinationKeyString, serviceKeyString, type DestinationKey, type ServiceKey } from '@balanced/ipvs';

/** Identity of a destination within a service, e.g. "tcp/10.0.0.1:80 -> 10.1.0.2:80". */
export function drainKey(service: ServiceKey, destination: DestinationKey): string {
  return `${serviceKeyString(service)} -> ${destinationKeyString(destination)}`;
}

export { destinationKeyString as destinationId, serviceKeyString as serviceId };
