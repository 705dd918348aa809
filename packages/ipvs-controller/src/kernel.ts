import type { IpvsClient, IpvsOperation, OperationResult } from '@balanced/ipvs';
import type { ActualService } from './model.js';

/** The controller's view of IPVS: read everything, apply a batch. */
export interface IpvsKernel {
  dump(): Promise<ActualService[]>;
  apply(ops: readonly IpvsOperation[]): Promise<OperationResult[]>;
}

export function ipvsKernel(client: IpvsClient): IpvsKernel {
  return { dump: () => client.dump(), apply: (ops) => client.apply(ops) };
}
