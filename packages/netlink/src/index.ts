export { align4 } from './codec/align.js';
export { concatBytes } from './codec/bytes.js';
export * from './codec/constants.js';
export { AttributeEncoder } from './codec/attribute-encoder.js';
export { AttributeDecoder } from './codec/attribute-decoder.js';
export { MalformedMessageError, EncodeError } from './codec/errors.js';
export { encodeMessage, decodeMessages, decodeHeader, type NetlinkHeader, type NetlinkMessage } from './codec/message.js';
export { decodeAck, decodeDone, type Acknowledgement, type ExtendedAck } from './codec/ack.js';
export { encodeGeneric, decodeGeneric, type GenericHeader } from './codec/genetlink.js';
export { HOST_LITTLE_ENDIAN } from './codec/byte-order.js';
export { Errno, errnoName } from './errno.js';
export { NetlinkError, isErrno, type NetlinkErrorCode, type NetlinkErrorDetails } from './errors.js';
export { NetlinkConnection, type NetlinkRequest, type RequestOutcome, type Transport, type ConnectionOptions } from './connection.js';
export type { Datagrams } from './socket/datagrams.js';
export { NetlinkSocket, inNamespace, type NetlinkSocketOptions } from './socket/netlink-socket.js';
export { resolveFamily, decodeFamily, genericRequest, type GenericFamily } from './genl/family.js';
export { RouteClient, LinkNotFoundError, type CreateLinkOptions } from './route/route-client.js';
export type { Link, InterfaceAddress } from './route/messages.js';
export { familyNumber, AF_INET, AF_INET6 } from './family.js';
// Address text is @balanced/net's, re-exported because the codecs built on netlink (IPVS,
// rtnetlink) take addresses as text. parsePrefix is its parseAddressPrefix: an address with a
// prefix length, host bits kept (an interface address, not a CIDR: see parseCidr there).
export { parseIp, formatIp, parseAddressPrefix as parsePrefix, InvalidAddressError, type AddressFamily, type IpAddress } from '@balanced/net';
