// Linux IPVS: IpvsClient (services, destinations, batched apply over generic netlink), its typed model and errors, and the attribute codec the benches drive directly.
export { IpvsClient, type IpvsClientOptions, type OperationResult, type ServiceWithDestinations } from './client.js';
export {
  ServiceFlags,
  destinationKeyString,
  serviceKeyString,
  type Destination,
  type DestinationKey,
  type DestinationSpec,
  type ForwardingMethod,
  type Info,
  type IpvsOperation,
  type Protocol,
  type Scheduler,
  type Service,
  type ServiceKey,
  type ServiceSpec,
  type Stats,
  type Timeouts,
  type TunnelSpec,
  type TunnelType,
} from './model.js';
export {
  AlreadyExists,
  DestinationNotFound,
  InvalidArgument,
  IpvsError,
  IpvsUnavailable,
  OutcomeUnknown,
  PermissionDenied,
  SchedulerMissing,
  ServiceNotFound,
  type IpvsErrorCode,
} from './errors.js';
export { encodeService, encodeDestination } from './codec/encode.js';
export { decodeService } from './codec/decode.js';
export * as IpvsConstants from './codec/constants.js';
