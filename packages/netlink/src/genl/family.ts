import { AttributeDecoder } from '../codec/attribute-decoder.js';
import { AttributeEncoder } from '../codec/attribute-encoder.js';
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_OPS,
  CTRL_ATTR_VERSION,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_ID,
  CTRL_CMD_GETFAMILY,
  GENL_ID_CTRL,
} from '../codec/constants.js';
import { decodeGeneric, encodeGeneric } from '../codec/genetlink.js';
import type { NetlinkMessage } from '../codec/message.js';
import type { NetlinkRequest, Transport } from '../connection.js';
import { NetlinkError } from '../errors.js';

export interface GenericFamily {
  readonly id: number;
  readonly name: string;
  readonly version: number;
  readonly headerSize: number;
  readonly maxAttribute: number;
  readonly operations: readonly { readonly id: number; readonly flags: number }[];
  readonly multicastGroups: readonly { readonly name: string; readonly id: number }[];
}

/** A generic netlink request to `familyId`: genlmsghdr + attributes. */
export function genericRequest(
  familyId: number,
  command: number,
  version: number,
  attributes: Uint8Array,
  options: { flags?: number; op?: string; replyBytes?: number } = {},
): NetlinkRequest {
  return {
    type: familyId,
    data: encodeGeneric({ command, version }, attributes),
    ...(options.flags !== undefined ? { flags: options.flags } : {}),
    ...(options.op !== undefined ? { op: options.op } : {}),
    ...(options.replyBytes !== undefined ? { replyBytes: options.replyBytes } : {}),
  };
}

/** Ask nlctrl for a family by name. A family the kernel does not have is ENOENT. */
export async function resolveFamily(transport: Transport, name: string): Promise<GenericFamily> {
  const attrs = new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, name).encode();
  const [outcome] = await transport.execute([
    genericRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, attrs, { op: `nlctrl GETFAMILY ${name}`, replyBytes: 16384 }),
  ]);
  if (!outcome) throw new Error('nlctrl: no outcome');
  if (!outcome.ok) throw outcome.error;
  const reply = outcome.messages[0];
  if (!reply) throw new NetlinkError({ code: 'NETLINK_MALFORMED_REPLY', op: `nlctrl GETFAMILY ${name}`, cause: new Error('no reply message') });
  return decodeFamily(reply);
}

export function decodeFamily(message: NetlinkMessage): GenericFamily {
  const { attributes } = decodeGeneric(message.data);
  const d = new AttributeDecoder(attributes, 20);
  let id = 0;
  let name = '';
  let version = 0;
  let headerSize = 0;
  let maxAttribute = 0;
  const operations: { id: number; flags: number }[] = [];
  const multicastGroups: { name: string; id: number }[] = [];
  while (d.next()) {
    switch (d.type()) {
      case CTRL_ATTR_FAMILY_ID:
        id = d.u16();
        break;
      case CTRL_ATTR_FAMILY_NAME:
        name = d.string();
        break;
      case CTRL_ATTR_VERSION:
        version = d.u32();
        break;
      case CTRL_ATTR_HDRSIZE:
        headerSize = d.u32();
        break;
      case CTRL_ATTR_MAXATTR:
        maxAttribute = d.u32();
        break;
      case CTRL_ATTR_OPS:
        d.nested((list) => {
          while (list.next()) {
            let op = { id: 0, flags: 0 };
            list.nested((o) => {
              while (o.next()) {
                if (o.type() === CTRL_ATTR_OP_ID) op = { ...op, id: o.u32() };
                else if (o.type() === CTRL_ATTR_OP_FLAGS) op = { ...op, flags: o.u32() };
              }
            });
            operations.push(op);
          }
        });
        break;
      case CTRL_ATTR_MCAST_GROUPS:
        d.nested((list) => {
          while (list.next()) {
            let group = { name: '', id: 0 };
            list.nested((g) => {
              while (g.next()) {
                if (g.type() === 1) group = { ...group, name: g.string() };
                else if (g.type() === 2) group = { ...group, id: g.u32() };
              }
            });
            multicastGroups.push(group);
          }
        });
        break;
    }
  }
  const e = d.err();
  if (e) throw e;
  return { id, name, version, headerSize, maxAttribute, operations, multicastGroups };
}


