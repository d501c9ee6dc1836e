/**
 * The five command handlers, composed from the pure parts (allocator, plan, hostport rules) and the
 * thin edges (`Store`, `NodeHost`, `NetExecutor`).
 *
 * ADD order, chosen so that a kill -9 at any instant leaves only what DEL or GC can undo:
 *   reserve IP -> write attachment record -> node `ip -batch` -> pod `ip -batch` -> host ports.
 * Any failure runs the rollback list (host ports, veth, record, IP) before the error is reported.
 * DEL: veth, host ports, IP, record; every part missing is fine. GC: the same for each attachment the
 * runtime no longer lists, plus reservations nobody's record names.
 *
 * With the agent's fast path (fastpath/), ADD ends by handing the pod to it (one helper exec) and DEL/GC
 * start by taking it out; a fast path failure never fails the command (the pod uses the normal path).
 *
 * Cost of an ADD on a node whose bridge is up: two procfs reads, ~6 small file operations, two execs
 * (`ip -batch`, `ip -n <pod> -batch`), plus one `nft -f` when the pod has host ports. Served by the
 * agent (`nodeNet`), the node's part goes over its netlink socket instead: one exec.
 */
import { CniCheckFailedError, CniInvalidConfigError, CniInvalidEnvError, CniNetworkSetupError, CniNotAvailableError, CniUnknownContainerError } from './errors.js';
import type { NetExecutor } from './executor.js';
import type { NodeNet } from './netlink-node.js';
import { NodeNetUnavailableError } from './netlink-node.js';
import { Rollback } from './executor.js';
import { buildHostportScript, computeHostportRules, hostportFingerprint, needsRouteLocalnet } from './hostport.js';
import { allocateIp, planGc, releaseIps } from './ipam/allocator.js';
import { formatIPv4, parseCidr, podRangeOf, rangeSize } from './ipam/ipv4.js';
import { keyString, type AttachmentRecord, type Store } from './ipam/store.js';
import type { PodFastPath } from './fastpath/fastpath.js';
import { hostVethMac, hostVethName, podMac } from './names.js';
import { bridgeStateOf, parseIpLinks, pickUnderlay, type NodeHost } from './node-host.js';
import { resolvePodNetwork } from './node-state.js';
import { compareAttachment, parsePodObservation, planAdd, planDelLinks, type AddPlan } from './plan.js';
import type { PluginHandlers } from './skel.js';
import type { AddRequest, AttachmentKey, CheckRequest, CniResult, DelRequest, GcRequest, NetConf, StatusRequest } from './types.js';

/** VXLAN over IPv4 adds 50 bytes (outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14). */
export const VXLAN_OVERHEAD = 50;
/** Used when no underlay interface can be found at all. */
export const FALLBACK_UNDERLAY_MTU = 1500;

export interface PluginDeps {
  readonly net: NetExecutor;
  readonly host: NodeHost;
  openStore(dataDir: string): Store;
  /**
   * Applies ADD's node-namespace ops in-process (the agent's netlink socket, netlink-node.ts); without
   * it they run as one `ip -batch` exec (the binary).
   */
  readonly nodeNet?: NodeNet;
  /**
   * The agent's pod fast path (fastpath/fastpath.ts): told about each pod after ADD and before DEL/GC
   * remove it. Never fails an ADD: a pod it cannot take uses the normal path. The binary has none.
   */
  readonly fastPath?: PodFastPath;
}

/** Remembered per network so later ADDs on a ready bridge need no query. */
interface BridgeCache {
  readonly bridge: string;
  readonly mtu: number;
}

export function createPlugin(deps: PluginDeps): PluginHandlers {
  const { net, host } = deps;

  async function applyNode(plan: AddPlan, what: string): Promise<void> {
    if (deps.nodeNet === undefined) return net.ipBatch(plan.nodeScript, { what });
    try {
      await deps.nodeNet.apply(plan.nodeOps, what);
    } catch (err) {
      // no netlink socket (the module failed to load): the same ops as one `ip -batch`
      if (!(err instanceof NodeNetUnavailableError)) throw err;
      await net.ipBatch(plan.nodeScript, { what });
    }
  }

  const bridgeCachePath = (conf: NetConf): string => `${conf.dataDir}/bridge.json`;

  function readBridgeCache(conf: NetConf): BridgeCache | undefined {
    const text = host.readFile(bridgeCachePath(conf));
    if (text === undefined) return undefined;
    try {
      const c = JSON.parse(text) as BridgeCache;
      return c.bridge === conf.bridge && Number.isInteger(c.mtu) ? c : undefined;
    } catch {
      return undefined;
    }
  }

  /** config > node state > the ready bridge's remembered MTU > detected (bridge's own, else underlay - 50). */
  async function resolveMtu(conf: NetConf, stateMtu: number | undefined, bridgeReady: boolean): Promise<{ mtu: number; detected: boolean }> {
    if (conf.mtu !== undefined) return { mtu: conf.mtu, detected: false };
    if (stateMtu !== undefined) return { mtu: stateMtu, detected: false };
    const cached = bridgeReady ? readBridgeCache(conf) : undefined;
    if (cached !== undefined) return { mtu: cached.mtu, detected: false };
    const links = parseIpLinks((await net.ipJson(['link show'], { what: 'listing links to detect the MTU' })).trim() || '[]');
    const bridge = links.find((l) => l.ifname === conf.bridge);
    if (bridge !== undefined) return { mtu: bridge.mtu, detected: true };
    const underlay = pickUnderlay(host.routes(), links, conf.bridge);
    return { mtu: (underlay?.mtu ?? FALLBACK_UNDERLAY_MTU) - VXLAN_OVERHEAD, detected: true };
  }

  /** Rebuilds the host-port table until it matches the store (a concurrent writer may have raced us). */
  async function syncHostports(store: Store, bridge: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const records = store.listAttachmentsWithPorts();
      const fingerprint = hostportFingerprint(records);
      const rules = computeHostportRules(records);
      if (needsRouteLocalnet(rules) && host.linkNames().has(bridge)) {
        host.setSysctl(`net/ipv4/conf/${bridge}/route_localnet`, '1');
      }
      await net.nft(buildHostportScript(rules), 'applying host ports (nft)');
      if (hostportFingerprint(store.listAttachmentsWithPorts()) === fingerprint) return;
    }
  }

  async function removeHostVeth(hostVeth: string, force = false): Promise<void> {
    const lines = planDelLinks(hostVeth, host.linkNames());
    try {
      await net.ipBatch(lines, { what: `deleting ${hostVeth}`, force });
    } catch (err) {
      if (host.linkNames().has(hostVeth)) throw err; // gone meanwhile is what we wanted
    }
  }

  async function add(req: AddRequest): Promise<CniResult> {
    const { conf } = req;
    const key: AttachmentKey = { containerId: req.containerId, ifname: req.ifname };
    if (!host.pathExists(req.netns)) throw new CniInvalidEnvError(`CNI_NETNS ${req.netns} does not exist`);
    const pod = resolvePodNetwork(host, conf);
    const store = deps.openStore(conf.dataDir);
    const rollback = new Rollback();
    try {
      const { ip } = allocateIp(store, pod.range, key);
      rollback.push(`releasing ${ip}`, () => store.releaseIp(ip, key));
      const links = host.linkNames();
      const state = bridgeStateOf(links, host.routes(), conf.bridge, pod.range.cidr.network, pod.range.cidr.prefix);
      const { mtu, detected } = await resolveMtu(conf, pod.mtu, state === 'ready');
      const hostVeth = hostVethName(key);
      const record: AttachmentRecord = {
        ...key,
        ip,
        podCidr: pod.podCidr,
        hostVeth,
        netns: req.netns,
        portMappings: conf.portMappings,
        createdAt: host.now(),
      };
      store.putAttachment(record);
      rollback.push('removing the attachment record', () => store.deleteAttachment(key));
      const input = { conf, key, netns: req.netns, ip, range: pod.range, mtu, bridgeState: state, staleHostVeth: links.has(hostVeth) };
      let plan = planAdd(input);
      rollback.push(`deleting ${hostVeth}`, () => removeHostVeth(hostVeth));
      try {
        await applyNode(plan, `setting up ${conf.bridge} and ${hostVeth}`);
      } catch (err) {
        // another ADD created the bridge between our look and our `link add`: go again without creating it
        if (state !== 'absent' || !host.linkNames().has(conf.bridge)) throw err;
        await removeHostVeth(hostVeth);
        plan = planAdd({ ...input, bridgeState: 'unconfigured', staleHostVeth: false });
        await applyNode(plan, `setting up ${conf.bridge} and ${hostVeth}`);
      }
      await net.ipBatch(plan.podScript, { netns: req.netns, what: `configuring ${req.ifname} in ${req.netns}` });
      if (conf.portMappings.length > 0) {
        rollback.push('removing host ports', async () => {
          store.deleteAttachment(key);
          await syncHostports(store, conf.bridge);
        });
        await syncHostports(store, conf.bridge);
      }
      if (detected) host.writeFileAtomic(bridgeCachePath(conf), `${JSON.stringify({ bridge: conf.bridge, mtu } satisfies BridgeCache)}\n`);
      await deps.fastPath?.addPod({ ip, hostVeth: plan.hostVeth, podMac: podMac(ip), hostMac: hostVethMac(key) });
      return plan.result;
    } catch (err) {
      const failures = await rollback.run();
      if (failures.length > 0 && err instanceof Error) {
        Object.defineProperty(err, 'message', { value: `${err.message} (rollback incomplete: ${failures.join('; ')})` });
      }
      throw err;
    }
  }

  async function del(req: DelRequest): Promise<void> {
    const key: AttachmentKey = { containerId: req.containerId, ifname: req.ifname };
    const store = deps.openStore(req.conf.dataDir);
    const rec = store.getAttachment(key);
    if (rec !== undefined) await deps.fastPath?.removePod(rec.ip);
    await removeHostVeth(rec?.hostVeth ?? hostVethName(key));
    if (rec !== undefined && rec.portMappings.length > 0) {
      store.deleteAttachment(key);
      await syncHostports(store, req.conf.bridge);
    }
    releaseIps(store, key, rec?.ip);
    store.deleteAttachment(key);
  }

  async function check(req: CheckRequest): Promise<void> {
    const { conf } = req;
    const key: AttachmentKey = { containerId: req.containerId, ifname: req.ifname };
    const rec = deps.openStore(conf.dataDir).getAttachment(key);
    if (rec === undefined) {
      throw new CniUnknownContainerError(`container ${req.containerId} (${req.ifname}) has no attachment in network ${conf.name}`);
    }
    if (conf.prevResult === undefined) throw new CniInvalidConfigError('CHECK needs "prevResult" in the config (the result of ADD)');
    const cidr = parseCidr(rec.podCidr);
    const range = cidr !== undefined ? podRangeOf(cidr) : undefined;
    if (range === undefined) throw new CniCheckFailedError(`the attachment record names an invalid pod CIDR "${rec.podCidr}"`);
    const links = host.linkNames();
    const problems: string[] = [];
    if (!links.has(conf.bridge)) problems.push(`bridge ${conf.bridge} is missing`);
    if (!links.has(rec.hostVeth)) problems.push(`host veth ${rec.hostVeth} is missing`);
    if (!host.pathExists(req.netns)) problems.push(`network namespace ${req.netns} is missing`);
    else {
      let out: string;
      try {
        out = await net.ipJson([`addr show dev ${req.ifname}`, 'route show default'], { netns: req.netns, what: 'reading the pod interface' });
      } catch (err) {
        throw new CniCheckFailedError(`${req.ifname} is missing or unreadable in ${req.netns}`, {
          cause: err,
          details: err instanceof CniNetworkSetupError ? err.message : '',
        });
      }
      problems.push(
        ...compareAttachment(
          { address: `${rec.ip}/${range.cidr.prefix}`, gateway: formatIPv4(range.gateway), ifname: req.ifname },
          conf.prevResult,
          parsePodObservation(out),
        ),
      );
    }
    if (problems.length > 0) throw new CniCheckFailedError(`CHECK failed for container ${req.containerId}: ${problems.join('; ')}`);
  }

  async function gc(req: GcRequest): Promise<void> {
    const { conf } = req;
    const store = deps.openStore(conf.dataDir);
    const byKey = new Map<string, AttachmentRecord>();
    for (const r of [...store.listAttachments(), ...store.listAttachmentsWithPorts()]) byKey.set(keyString(r), r);
    const minAge = conf.gcMinAgeSeconds ?? 0;
    const plan = planGc(req.validAttachments, [...byKey.values()], store.listReservations(), minAge > 0 ? host.now() - minAge * 1000 : undefined);
    for (const a of plan.staleAttachments) await deps.fastPath?.removePod(a.ip);
    const present = host.linkNames();
    const lines = plan.staleAttachments.flatMap((a) => planDelLinks(a.hostVeth, present));
    try {
      await net.ipBatch(lines, { what: 'deleting stale veths', force: true });
    } catch (err) {
      if (plan.staleAttachments.some((a) => host.linkNames().has(a.hostVeth))) throw err;
    }
    for (const a of plan.staleAttachments) store.deleteAttachment(a);
    await syncHostports(store, conf.bridge);
    for (const r of plan.orphanIps) store.releaseIp(r.ip, r.owner);
    store.sweep(host.now());
  }

  async function status(req: StatusRequest): Promise<void> {
    let pod;
    try {
      pod = resolvePodNetwork(host, req.conf);
    } catch (err) {
      throw new CniNotAvailableError(`knode-cni cannot add pods: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const used = deps.openStore(req.conf.dataDir).listReservations().length;
    if (used >= rangeSize(pod.range)) {
      throw new CniNotAvailableError(`knode-cni cannot add pods: all ${rangeSize(pod.range)} addresses of ${pod.podCidr} are allocated`);
    }
  }

  return { add, del, check, gc, status };
}
