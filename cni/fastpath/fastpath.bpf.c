// SPDX-License-Identifier: GPL-2.0
/*
 * knode's pod fast path: two tc programs that carry pod traffic between nodes past the parts of the
 * kernel's path that such a packet does not need. The normal path stays the reference and the fallback:
 * every packet these programs do not take goes on unchanged (TC_ACT_OK).
 *
 *   from_pod       tc ingress of each pod's host-side veth (attached at ADD). A packet for a pod of
 *                  another node is routed with bpf_fib_lookup, that is by the overlay's own route and
 *                  neighbour entries (cni/overlay/plan.ts), then encapsulated here the way the VXLAN
 *                  device would (outer IPv4, UDP, VXLAN), with the peer's underlay IP from knode_peers
 *                  (the overlay agent's mirror of the device's FDB), and sent out of the underlay link
 *                  with bpf_redirect_neigh. Skipped: the bridge (and br_netfilter's hooks), IP
 *                  forwarding and its netfilter hooks, the VXLAN device's transmit with its route
 *                  lookup, and the outer packet's OUTPUT and POSTROUTING hooks. A peer the map does not
 *                  know yet: the routed packet goes to the VXLAN device. A packet too big for the
 *                  underlay once encapsulated: the normal path, which deals with it as without the
 *                  fast path (the VXLAN device learns the path MTU and fragments its outer packet).
 *   from_underlay  tc ingress of the node's underlay link. A VXLAN packet (our port and VNI, for this
 *                  node's IP) carrying a packet for a pod of this node loses its outer headers and goes
 *                  straight into the pod's namespace (bpf_redirect_peer on its veth, from the knode_pods
 *                  map). Skipped: the outer IP/UDP receive, the VXLAN device, IP forwarding, the bridge.
 *
 * What must keep the normal path: a packet of a connection netfilter NATs on this node. A Service's
 * DNAT is undone on the client's node when the reply arrives, hostPorts and NodePorts are DNATed on the
 * receiving node: skipping netfilter there would deliver replies with the wrong address. So before
 * taking a TCP or UDP packet each program looks its connection up in conntrack (the bpf_skb_ct_lookup
 * kfunc, which only reads) and leaves it alone when the entry has SNAT or DNAT. A connection between
 * two pod IPs that was never NATed has no entry at all (its packets never meet conntrack) and is taken.
 * Other protocols (ICMP...), fragments, IP options, packets whose TTL would expire, VXLAN packets an
 * underlay router marked CE and pods that are not in the map take the normal path.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "fastpath.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct knode_config);
} knode_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KNODE_MAX_PODS);
	__type(key, __u32);
	__type(value, struct knode_pod);
} knode_pods SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KNODE_MAX_PEERS);
	__type(key, struct knode_peer_key);
	__type(value, __u32);
} knode_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} knode_stats SEC(".maps");

/* net/netfilter/nf_conntrack_bpf.c. Only `status` is read; CO-RE relocates its offset. */
struct nf_conn {
	unsigned long status;
} __attribute__((preserve_access_index));

/* The kfunc's options in their first (12-byte) layout, which every kernel with the kfunc accepts. */
struct ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple, __u32 tuple_size,
					 struct ct_opts *opts, __u32 opts_size) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

#define IPS_SRC_NAT (1UL << 4)
#define IPS_DST_NAT (1UL << 5)
#define CURRENT_NETNS (-1)
#define IP_MF_OR_OFFSET 0x3fff
#define VXLAN_FLAG_VNI 0x08000000

struct vxlanhdr {
	__be32 flags;
	__be32 vni;
};

/* Outer IPv4 + UDP + VXLAN + inner Ethernet: what decapsulation removes after the outer Ethernet. */
#define ENCAP_LEN (sizeof(struct iphdr) + sizeof(struct udphdr) + sizeof(struct vxlanhdr) + ETH_HLEN)

/* Everything in front of the inner IP header of a VXLAN packet. */
struct vxlan_headers {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	struct vxlanhdr vxlan;
	struct ethhdr inner;
} __attribute__((packed));

/* The kernel's VXLAN device picks its UDP source ports from the local port range (sysctl defaults). */
#define SPORT_MIN 32768
#define SPORT_MAX 60999
#define OUTER_TTL 64

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&knode_stats, &stat);
	if (n)
		*n += 1;
}

static __always_inline struct knode_config *config(void)
{
	__u32 zero = 0;
	struct knode_config *cfg = bpf_map_lookup_elem(&knode_config, &zero);
	return cfg && cfg->enabled ? cfg : 0;
}

/* An IPv4 header at `ip` that a router may forward as is: no options, not a fragment, TTL > 1. */
static __always_inline int forwardable(struct iphdr *ip, void *end)
{
	return (void *)(ip + 1) <= end && ip->version == 4 && ip->ihl == 5 && ip->ttl > 1 &&
	       !(ip->frag_off & bpf_htons(IP_MF_OR_OFFSET));
}

/* True when netfilter does no NAT on this node for the connection of this TCP or UDP packet. */
static __always_inline int without_nat(struct __sk_buff *skb, struct iphdr *ip, void *end)
{
	struct bpf_sock_tuple tuple = {};
	struct ct_opts opts = { .netns_id = CURRENT_NETNS, .l4proto = ip->protocol };
	void *l4 = (void *)(ip + 1);

	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > end)
			return 0;
		tuple.ipv4.sport = tcp->source;
		tuple.ipv4.dport = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return 0;
		tuple.ipv4.sport = udp->source;
		tuple.ipv4.dport = udp->dest;
	} else {
		return 0;
	}
	tuple.ipv4.saddr = ip->saddr;
	tuple.ipv4.daddr = ip->daddr;

	struct nf_conn *ct = bpf_skb_ct_lookup(skb, &tuple, sizeof(tuple.ipv4), &opts, sizeof(opts));
	if (!ct)
		return 1;
	int nat = (ct->status & (IPS_SRC_NAT | IPS_DST_NAT)) != 0;
	bpf_ct_release(ct);
	return !nat;
}

/* One routed hop: TTL - 1 (the header checksum updated to match) and new Ethernet addresses. */
static __always_inline int route(struct __sk_buff *skb, __u32 ip_off, struct iphdr *ip, const __u8 *dmac,
				 const __u8 *smac)
{
	__u16 old = *(__u16 *)&ip->ttl; /* ttl and protocol: one 16-bit word of the checksum */
	__u16 new = old;
	((__u8 *)&new)[0] -= 1;
	if (bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), old, new, sizeof(new)) < 0 ||
	    bpf_skb_store_bytes(skb, ip_off + offsetof(struct iphdr, ttl), &new, sizeof(new), 0) < 0 ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), dmac, ETH_ALEN, 0) < 0 ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_source), smac, ETH_ALEN, 0) < 0)
		return -1;
	return 0;
}

#define ECN_MASK 3
#define ECN_ECT_0 2
#define ECN_CE 3

/* The outer header's ECN field for an inner TOS, as the kernel's tunnels set it (RFC 6040): the
 * inner packet's ECN capability, with CE sent as ECT(0). */
static __always_inline __u8 outer_ecn(__u8 inner_tos)
{
	__u8 ecn = inner_tos & ECN_MASK;
	return ecn == ECN_CE ? ECN_ECT_0 : ecn;
}

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * The largest IPv4 packet this one puts on the wire: itself, or for a GSO super-packet one segment
 * (headers plus gso_size). Only TCP and UDP packets get here (without_nat). 0: cannot tell.
 */
static __always_inline __u32 wire_len(struct __sk_buff *skb, struct iphdr *ip, void *end)
{
	if (!skb->gso_size)
		return bpf_ntohs(ip->tot_len);
	__u32 l4 = sizeof(struct udphdr);
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > end)
			return 0;
		l4 = tcp->doff * 4;
	}
	return sizeof(struct iphdr) + l4 + skb->gso_size;
}

/* Where from_pod sends a packet it encapsulates. */
struct underlay_hop {
	__u32 ifindex; /* the underlay link */
	__be32 peer; /* the other node's underlay IP: the outer destination */
	struct bpf_redir_neigh next_hop; /* the peer itself, or the gateway towards it */
};

enum { HOP_UNKNOWN, HOP_FOUND, HOP_TOO_BIG };

/*
 * The underlay hop to the node whose VTEP has MAC `vtep`, for a packet of `len` bytes on the wire
 * (wire_len): its underlay IP from knode_peers (the mirror of the VXLAN device's FDB), then the
 * underlay route to it. The next hop's MAC is left to the neighbour table: bpf_redirect_neigh
 * resolves, confirms and re-probes it as the kernel's own output does. HOP_UNKNOWN: no such peer or no
 * route; HOP_TOO_BIG: the packet would not fit the underlay's MTU once encapsulated.
 */
static __always_inline int underlay_hop(struct __sk_buff *skb, struct knode_config *cfg, const __u8 *vtep, __u32 len,
					struct underlay_hop *hop)
{
	struct knode_peer_key key = {};
	__builtin_memcpy(key.mac, vtep, ETH_ALEN);
	__u32 *entry = bpf_map_lookup_elem(&knode_peers, &key);
	if (!entry)
		return HOP_UNKNOWN;
	hop->peer = *entry; /* once: the agent may rewrite the entry meanwhile */
	struct bpf_fib_lookup fib = {
		.family = 2, /* AF_INET */
		.ipv4_src = cfg->node_ip,
		.ipv4_dst = hop->peer,
		.ifindex = skb->ingress_ifindex,
	};
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH) != BPF_FIB_LKUP_RET_SUCCESS ||
	    fib.ifindex == cfg->vxlan_ifindex || len == 0)
		return HOP_UNKNOWN;
	if (len + ENCAP_LEN > fib.mtu_result)
		return HOP_TOO_BIG;
	hop->ifindex = fib.ifindex;
	hop->next_hop.nh_family = 2; /* AF_INET */
	hop->next_hop.ipv4_nh = fib.ipv4_dst; /* the lookup put the gateway there, if there is one */
	return HOP_FOUND;
}

/*
 * What the VXLAN device would do with this packet, done here: outer Ethernet, IPv4, UDP and VXLAN
 * headers in front of it. `dmac` and `smac` are the routed packet's new Ethernet addresses (the peer's
 * VTEP MAC, ours). Returns 0, or -1 when the packet could not be changed (untouched: the caller
 * hands it to the device) or -2 when it was damaged (to drop).
 */
static __always_inline int encapsulate(struct __sk_buff *skb, struct knode_config *cfg, __u8 inner_tos,
				      const struct underlay_hop *hop, const __u8 *dmac, const __u8 *smac)
{
	/* The outer Ethernet addresses stay zero: bpf_redirect_neigh writes them. */
	struct vxlan_headers h = {};
	h.eth.h_proto = bpf_htons(ETH_P_IP);
	__builtin_memcpy(h.inner.h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(h.inner.h_source, smac, ETH_ALEN);
	h.inner.h_proto = bpf_htons(ETH_P_IP);

	/*
	 * Room for the outer headers after the Ethernet header, marked as a UDP tunnel so a GSO packet is
	 * segmented (or passed on unsegmented) the way the VXLAN device's are. FIXED_GSO: the pod's MTU
	 * already leaves room for the encapsulation, so the segment size stays what the pod chose.
	 */
	__u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
		      BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(ETH_HLEN);
	__u32 hash = bpf_get_hash_recalc(skb);
	if (bpf_skb_adjust_room(skb, ENCAP_LEN, BPF_ADJ_ROOM_MAC, flags) < 0)
		return -1;
	__u32 total = skb->len;
	struct iphdr ip = {
		.version = 4,
		.ihl = 5,
		.tot_len = bpf_htons(total - ETH_HLEN),
		.id = (__u16)bpf_get_prandom_u32(),
		.tos = outer_ecn(inner_tos),
		.ttl = OUTER_TTL,
		.protocol = IPPROTO_UDP,
		.saddr = cfg->node_ip,
		.daddr = hop->peer,
	};
	ip.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&ip, sizeof(ip), 0));
	h.ip = ip;
	hash ^= hash << 16; /* as the kernel's udp_flow_src_port: a flow keeps its port on either path */
	h.udp.source = bpf_htons((__u16)((((__u64)hash * (SPORT_MAX - SPORT_MIN)) >> 32) + SPORT_MIN));
	h.udp.dest = cfg->vxlan_port;
	h.udp.len = bpf_htons(total - ETH_HLEN - sizeof(struct iphdr));
	h.udp.check = 0; /* as the kernel's VXLAN device over IPv4 by default */
	h.vxlan.flags = bpf_htonl(VXLAN_FLAG_VNI);
	h.vxlan.vni = bpf_htonl(cfg->vni << 8);
	if (bpf_skb_store_bytes(skb, 0, &h, sizeof(h), 0) < 0)
		return -2;
	return 0;
}

SEC("tc")
int from_pod(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct knode_config *cfg = config();
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if (!cfg || (void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || !forwardable(ip, end))
		goto pass;
	/* another node's pod: a local one is the bridge's business */
	if ((ip->daddr & cfg->cluster_mask) != cfg->cluster_net || (ip->daddr & cfg->node_mask) == cfg->node_net)
		goto pass;
	if (!without_nat(skb, ip, end))
		goto pass;

	/* No tot_len: the kernel then checks the MTU the GSO way (a 64 KB TCP super-packet is fine). */
	struct bpf_fib_lookup fib = {
		.family = 2, /* AF_INET */
		.tos = ip->tos,
		.l4_protocol = ip->protocol,
		.ipv4_src = ip->saddr,
		.ipv4_dst = ip->daddr,
		.ifindex = skb->ingress_ifindex,
	};
	if (bpf_fib_lookup(skb, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS || fib.ifindex != cfg->vxlan_ifindex)
		goto pass;
	/*
	 * Too big for the underlay once encapsulated (an underlay MTU lowered since the pod started, a pod
	 * MTU set by hand): the normal path deals with it as it would without the fast path (forwarding
	 * answers with ICMP beyond the VXLAN device's MTU, the device fragments its outer packet beyond
	 * the underlay's).
	 */
	struct underlay_hop hop = {};
	int found = underlay_hop(skb, cfg, fib.dmac, wire_len(skb, ip, end), &hop);
	if (found == HOP_TOO_BIG)
		goto pass;
	__u8 tos = ip->tos; /* packet pointers are invalid after route() */
	if (route(skb, ETH_HLEN, ip, fib.dmac, fib.smac) < 0)
		goto pass;
	if (found == HOP_FOUND) {
		int err = encapsulate(skb, cfg, tos, &hop, fib.dmac, fib.smac);
		if (err == -2)
			return TC_ACT_SHOT;
		if (err == 0) {
			count(STAT_POD_ENCAPSULATED);
			return bpf_redirect_neigh(hop.ifindex, &hop.next_hop, sizeof(hop.next_hop), 0);
		}
	}
	/* a peer the map does not know (yet): the VXLAN device encapsulates */
	count(STAT_POD_REDIRECTED);
	return bpf_redirect(fib.ifindex, 0);
pass:
	count(STAT_POD_PASSED);
	return TC_ACT_OK;
}

SEC("tc")
int from_underlay(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct knode_config *cfg = config();
	struct ethhdr *eth = data;
	struct iphdr *outer = (void *)(eth + 1);
	struct udphdr *udp = (void *)(outer + 1);
	struct vxlanhdr *vxlan = (void *)(udp + 1);
	struct ethhdr *inner_eth = (void *)(vxlan + 1);
	struct iphdr *ip = (void *)(inner_eth + 1);

	if (!cfg || (void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	if (outer->ihl != 5 || outer->protocol != IPPROTO_UDP || outer->daddr != cfg->node_ip ||
	    (outer->frag_off & bpf_htons(IP_MF_OR_OFFSET)) || udp->dest != cfg->vxlan_port)
		goto pass;
	/* congestion marked on the way: the VXLAN device carries the mark over (or drops) as RFC 6040 says */
	if ((outer->tos & ECN_MASK) == ECN_CE)
		goto pass;
	if (vxlan->flags != bpf_htonl(VXLAN_FLAG_VNI) || vxlan->vni != bpf_htonl(cfg->vni << 8) ||
	    inner_eth->h_proto != bpf_htons(ETH_P_IP) || !forwardable(ip, end))
		goto pass;
	if ((ip->daddr & cfg->node_mask) != cfg->node_net)
		goto pass;
	__u32 daddr = ip->daddr;
	struct knode_pod *pod = bpf_map_lookup_elem(&knode_pods, &daddr);
	if (!pod || !without_nat(skb, ip, end))
		goto pass;

	/*
	 * Remove outer IP, UDP, VXLAN and inner Ethernet, keeping the outer Ethernet header in front. A
	 * checksum the NIC had verified (CHECKSUM_UNNECESSARY) was the outer one: the kernel resets it
	 * here, so the pod's stack verifies the inner packet itself. FIXED_GSO: a super-packet's segment
	 * size is the inner packet's MSS already (the pod's TCP measures its peer's MSS by it).
	 */
	if (bpf_skb_adjust_room(skb, -(__s32)ENCAP_LEN, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO) < 0)
		goto pass;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	/* from here the packet is decapsulated: it goes to the pod or nowhere */
	if (!forwardable(ip, end) || route(skb, ETH_HLEN, ip, pod->mac, pod->host_mac) < 0)
		return TC_ACT_SHOT;
	count(STAT_UNDERLAY_REDIRECTED);
	return bpf_redirect_peer(pod->host_ifindex, 0);
pass:
	count(STAT_UNDERLAY_PASSED);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
