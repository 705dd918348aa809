export { IpvsClient, type IpvsClientOptions, type OperationResult, type ServiceWithDestinations } from './client.js';
export * from './model.js';
export * from './errors.js';
export { encodeService, encodeServiceKey, encodeDestination, encodeDestinationKey, encodeTimeouts } from './codec/encode.js';
export { decodeService, decodeDestination, decodeInfo, decodeTimeouts } from './codec/decode.js';
export * as IpvsConstants from './codec/constants.js';
