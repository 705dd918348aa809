import type { ServiceKey } from '@balanced/ipvs';

export { cidrOwnership, InvalidCidrError } from '@balanced/k8s';

export function serviceOwnership(ownsIp: (ip: string) => boolean): (key: ServiceKey) => boolean {
  return (key) => !('fwmark' in key) && ownsIp(key.address);
}
