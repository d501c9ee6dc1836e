/**
 * The node namespace's part of an ADD (plan.ts's `NodeOp`s) applied over one rtnetlink socket held by
 * the long-lived process that serves CNI (the node agent, agent-server.ts), instead of one `ip -batch`
 * exec per ADD: an exec from the agent measured ~13 ms on the 2-core VM under load (fork of a large
 * process + ip's start), the same ops over netlink ~1-3 ms. The binary keeps `ip -batch`: loading the
 * netlink N-API module costs more than the exec in a process that lives for one call.
 *
 * Semantics match `ip -batch` on the same lines: ops run in order and the first failure stops the
 * rest (the caller's rollback and its bridge-race retry decide what next, as they do for ip); the
 * error is a `CniNetworkSetupError` (code 101) naming the failing op as its `ip` line, with the whole
 * script in `details`. The socket acts in the namespace of this process: the agent must sit in the
 * node's (it does, cni/README.md). The pod's part stays an `ip` exec: a netlink socket cannot set
 * addresses or routes in another namespace.
 *
 * The messages are encoded here (lib/netlink for the framing) over the `netlink` package's raw socket
 * only: its generated rtnetlink structures cost ~8 MiB of RSS in the agent. The socket is opened on
 * first use or `preload()`, so merely importing this file (or agent-server.ts) loads nothing.
 */
import { closeSync, openSync } from 'node:fs';
import type { NetlinkChannel } from '../lib/netlink/channel.js';
import { NetlinkError } from '../lib/netlink/channel.js';
import { attr, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, parseAttrs, strAttr, u32Attr, u8Attr } from '../lib/netlink/message.js';
import { CniNetworkSetupError } from './errors.js';
import { renderNodeOp, type NodeOp } from './plan.js';

/** Applies the node namespace's ops of an ADD; the alternative to `ip -batch` of their lines. */
export interface NodeNet {
  apply(ops: readonly NodeOp[], what: string): Promise<void>;
}

/** Records the ops it is given; fails from the op at `failAt` on, like a real apply would stop. */
export class FakeNodeNet implements NodeNet {
  readonly applied: NodeOp[][] = [];
  constructor(private readonly failAt?: (op: NodeOp) => boolean) {}

  async apply(ops: readonly NodeOp[], what: string): Promise<void> {
    const done: NodeOp[] = [];
    this.applied.push(done);
    for (const op of ops) {
      if (this.failAt?.(op) === true) throw new CniNetworkSetupError(`${what} failed: ${renderNodeOp(op)}: Request rejected: EEXIST`);
      done.push(op);
    }
  }
}

/** `aa:bb:...` -> 6 bytes. */
export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) throw new Error(`not a MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** `10.244.1.1/24` -> address bytes and prefix length. */
export function ipv4Cidr(cidr: string): { address: Buffer; prefix: number } {
  const [ip, len] = cidr.split('/');
  const octets = (ip ?? '').split('.').map(Number);
  const prefix = Number(len);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`not an IPv4 CIDR: ${cidr}`);
  }
  return { address: Buffer.from(octets), prefix };
}

// linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h, linux/veth.h
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
/** IFLA_BRPORT_MODE = 4; its value 1 is hairpin. */
const IFLA_BRPORT_MODE = 4;
const BRPORT_MODE_HAIRPIN = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFF_UP = 1;
const AF_UNSPEC = 0;
const AF_INET = 2;
const NETLINK_ROUTE = 0;
const ETIMEDOUT = 110;

/** The node's netlink socket cannot be opened: the caller uses `ip -batch` instead. */
export class NodeNetUnavailableError extends Error {}

/** struct ifinfomsg: family, pad, type, index, flags, change. */
export function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

/** struct ifaddrmsg: family, prefix length, flags, scope (universe), index. */
function ifaddrmsg(prefix: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(AF_INET, 0);
  b.writeUInt8(prefix, 1);
  b.writeUInt32LE(index, 4);
  return b;
}

const linkinfo = (kind: string, data?: Buffer): Buffer => attr(IFLA_LINKINFO, Buffer.concat([strAttr(IFLA_INFO_KIND, kind), ...(data !== undefined ? [attr(IFLA_INFO_DATA, data)] : [])]));

/** The body of RTM_NEWLINK for `veth-add`: the peer is created straight in the namespace behind `netnsFd`. */
export function vethBody(op: Extract<NodeOp, { kind: 'veth-add' }>, netnsFd: number): Buffer {
  const peer = Buffer.concat([ifinfomsg(), strAttr(IFLA_IFNAME, op.peer), attr(IFLA_ADDRESS, macBytes(op.peerMac)), u32Attr(IFLA_MTU, op.mtu), u32Attr(IFLA_NET_NS_FD, netnsFd)]);
  return Buffer.concat([ifinfomsg(), strAttr(IFLA_IFNAME, op.name), attr(IFLA_ADDRESS, macBytes(op.mac)), u32Attr(IFLA_MTU, op.mtu), linkinfo('veth', attr(VETH_INFO_PEER, peer))]);
}

export function bridgeBody(op: Extract<NodeOp, { kind: 'bridge-add' }>): Buffer {
  return Buffer.concat([ifinfomsg(), strAttr(IFLA_IFNAME, op.name), attr(IFLA_ADDRESS, macBytes(op.mac)), u32Attr(IFLA_MTU, op.mtu), linkinfo('bridge')]);
}

/** Bridge port attributes go in IFLA_INFO_SLAVE_DATA, which only RTM_NEWLINK on an existing link applies. */
export function hairpinBody(index: number): Buffer {
  return Buffer.concat([ifinfomsg(index), attr(IFLA_LINKINFO, Buffer.concat([strAttr(IFLA_INFO_SLAVE_KIND, 'bridge'), attr(IFLA_INFO_SLAVE_DATA, u8Attr(IFLA_BRPORT_MODE, BRPORT_MODE_HAIRPIN))]))]);
}

export class NetlinkNodeNet implements NodeNet {
  private loaded: Promise<NetlinkChannel> | undefined;

  private load(): Promise<NetlinkChannel> {
    // a failed open is not cached: the next ADD tries again (and the plugin falls back to ip -batch)
    this.loaded ??= import('../lib/netlink/channel.js')
      .then((m) => m.NetlinkChannel.open(NETLINK_ROUTE))
      .catch((err: unknown) => {
        this.loaded = undefined;
        throw new NodeNetUnavailableError(`cannot open a netlink socket: ${err instanceof Error ? err.message : String(err)}`);
      });
    return this.loaded;
  }

  /** Drops a channel that stopped answering; the next ADD opens a fresh one. */
  private reset(nl: NetlinkChannel): void {
    if (this.loaded === undefined) return;
    this.loaded = undefined;
    nl.close();
  }

  /**
   * Opens the socket now (a server calls this at start) so the first ADD does not wait for the
   * module's load. A load failure is not lost: `apply` reports it.
   */
  preload(): this {
    this.load().catch(() => undefined);
    return this;
  }

  async apply(ops: readonly NodeOp[], what: string): Promise<void> {
    if (ops.length === 0) return;
    const nl = await this.load();
    const index = async (name: string): Promise<number> => {
      const replies = await nl.request([{ type: RTM_GETLINK, flags: 0, body: Buffer.concat([ifinfomsg(), strAttr(IFLA_IFNAME, name)]) }]).catch((err: unknown) => {
        throw new Error(`Request rejected: ${err instanceof NetlinkError ? err.errnoName : String(err)} (${name})`, { cause: err });
      });
      const link = replies[0]?.find((m) => m.type === RTM_NEWLINK);
      if (link === undefined || link.body.length < 16) throw new Error(`Request rejected: ENODEV (${name})`);
      return link.body.readInt32LE(4);
    };
    const send = async (type: number, flags: number, body: Buffer): Promise<void> => {
      await nl.request([{ type, flags, body }]).catch((err: unknown) => {
        throw new Error(`Request rejected: ${err instanceof NetlinkError ? err.errnoName : String(err)}`, { cause: err });
      });
    };
    for (const op of ops) {
      try {
        switch (op.kind) {
          case 'bridge-add':
            await send(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, bridgeBody(op));
            break;
          case 'addr-replace': {
            const { address, prefix } = ipv4Cidr(op.cidr);
            await send(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, Buffer.concat([ifaddrmsg(prefix, await index(op.dev)), attr(IFA_LOCAL, address), attr(IFA_ADDRESS, address)]));
            break;
          }
          case 'link-up':
            await send(RTM_NEWLINK, 0, ifinfomsg(await index(op.dev), IFF_UP, IFF_UP));
            break;
          case 'link-del':
            await send(RTM_DELLINK, 0, ifinfomsg(await index(op.dev)));
            break;
          case 'veth-add': {
            const fd = openSync(op.peerNetns, 'r');
            try {
              await send(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, vethBody(op, fd));
            } finally {
              closeSync(fd);
            }
            break;
          }
          case 'set-master':
            await send(RTM_NEWLINK, 0, Buffer.concat([ifinfomsg(await index(op.dev)), u32Attr(IFLA_MASTER, await index(op.master))]));
            break;
          case 'hairpin-on':
            await send(RTM_NEWLINK, 0, hairpinBody(await index(op.dev)));
            break;
          default: {
            const never: never = op;
            throw new Error(`unknown node op ${JSON.stringify(never)}`);
          }
        }
      } catch (err) {
        if (err instanceof Error && err.cause instanceof NetlinkError && err.cause.errno === ETIMEDOUT) this.reset(nl);
        throw new CniNetworkSetupError(`${what} failed: ${renderNodeOp(op)}: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
          details: `netlink (as ip -batch):\n${ops.map(renderNodeOp).join('\n')}\n`,
        });
      }
    }
  }
}

/** The attributes of a link reply, for tests. */
export const linkAttrs = (body: Buffer): Map<number, Buffer> => parseAttrs(body.subarray(16));
