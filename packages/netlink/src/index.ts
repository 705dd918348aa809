// Netlink for the IPVS client and the controllers: message/attribute codec, the AF_NETLINK socket and connection, generic-netlink family lookup, rtnetlink links and addresses.
export {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  GENL_ID_CTRL,
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
} from './codec/constants.js';
export { AttributeEncoder } from './codec/attribute-encoder.js';
export { AttributeDecoder } from './codec/attribute-decoder.js';
export { MalformedMessageError } from './codec/errors.js';
export { encodeMessage, decodeMessages, type NetlinkMessage } from './codec/message.js';
export { encodeGeneric, decodeGeneric } from './codec/genetlink.js';
export { HOST_LITTLE_ENDIAN } from './codec/byte-order.js';
export { Errno } from './errno.js';
export { NetlinkError, type NetlinkErrorCode } from './errors.js';
export { NetlinkConnection, type NetlinkRequest, type RequestOutcome, type Transport, type ConnectionOptions } from './connection.js';
export type { Datagrams } from './socket/datagrams.js';
export { NetlinkSocket, inNamespace, type NetlinkSocketOptions } from './socket/netlink-socket.js';
export { resolveFamily, genericRequest, type GenericFamily } from './genl/family.js';
export { RouteClient, LinkNotFoundError, type CreateLinkOptions } from './route/route-client.js';
export type { Link, InterfaceAddress } from './route/messages.js';
export { familyNumber, AF_INET, AF_INET6 } from './family.js';
// Address text is @balanced/net's, re-exported because the codecs built on netlink (IPVS,
// rtnetlink) take addresses as text. parsePrefix is its parseAddressPrefix: an address with a
// prefix length, host bits kept (an interface address, not a CIDR: see parseCidr there).
export { parseIp, formatIp, parseAddressPrefix as parsePrefix, type AddressFamily } from '@balanced/net';
