import type { Destination, DestinationSpec, Service, ServiceKey, ServiceSpec } from '@balanced/ipvs';

/** A destination as the controller wants it. */
export interface DesiredDestination extends DestinationSpec {
  /**
   * The weight the `mh` table must be built with (the kernel's last_weight). For a drained
   * destination (weight 0) it is the weight it had before, so a director that drained in
   * place and one that started fresh build the same table.
   */
  readonly lastWeight: number;
}

/** A virtual service as the controller wants it, destinations in canonical order. */
export interface DesiredService {
  readonly spec: ServiceSpec;
  /**
   * Any order: the Reconciler holds them in director order (order.ts, head first). plan()
   * itself keeps exactly the order it is given.
   */
  readonly destinations: readonly DesiredDestination[];
  /** How long a destination that left the desired set may drain before it is deleted. */
  readonly drainSeconds: number;
}

/** What the kernel holds for one service (a GET_SERVICE + GET_DEST dump). */
export interface ActualService {
  readonly service: Service;
  /** In kernel list order (head first). */
  readonly destinations: readonly Destination[];
}

export type { ServiceKey };
