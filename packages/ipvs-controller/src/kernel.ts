import type { IpvsClient, IpvsOperation, OperationResult, ServiceKey } from '@balanced/ipvs';
import type { ActualService } from './model.js';

/** The controller's view of IPVS: read everything, read some services, apply a batch. */
export interface IpvsKernel {
  dump(): Promise<ActualService[]>;
  /** These services as the kernel holds them now; ones it does not have are left out. */
  read(keys: readonly ServiceKey[]): Promise<ActualService[]>;
  apply(ops: readonly IpvsOperation[]): Promise<OperationResult[]>;
}

export function ipvsKernel(client: IpvsClient): IpvsKernel {
  return { dump: () => client.dump(), read: (keys) => client.readServices(keys), apply: (ops) => client.apply(ops) };
}
