/* The maps shared by fastpath.bpf.c (the tc programs) and knode-fastpath.c (the helper the agent runs). */
#ifndef KNODE_FASTPATH_H
#define KNODE_FASTPATH_H

#include <linux/types.h>

/* The node's settings (array map `knode_config`, index 0). Addresses in network byte order. */
struct knode_config {
	__u32 cluster_net;
	__u32 cluster_mask;
	__u32 node_net; /* this node's pod CIDR */
	__u32 node_mask;
	__u32 node_ip; /* the underlay address VXLAN packets are sent to */
	__u32 vxlan_ifindex;
	__u32 vni;
	__u16 vxlan_port; /* network byte order */
	__u8 enabled;
	__u8 pad;
};

/* A pod of this node (hash map `knode_pods`, key: its IPv4 address in network byte order). */
struct knode_pod {
	__u32 host_ifindex; /* the host side of its veth */
	__u8 mac[6]; /* its eth0 */
	__u8 host_mac[6]; /* the host side's, the source of what the pod receives from other nodes */
};

#define KNODE_MAX_PODS 4096

/*
 * Another node's VTEP (hash map `knode_peers`): the overlay agent mirrors there the FDB entries it gives
 * the VXLAN device (its MAC -> that node's underlay IP), so from_pod can encapsulate itself.
 */
struct knode_peer_key {
	__u8 mac[6];
	__u16 pad; /* zero */
};

#define KNODE_MAX_PEERS 1024

/* Counters (per-CPU array map `knode_stats`). */
enum {
	STAT_POD_REDIRECTED,
	STAT_POD_PASSED,
	STAT_POD_ENCAPSULATED,
	STAT_UNDERLAY_REDIRECTED,
	STAT_UNDERLAY_PASSED,
	STAT_COUNT,
};

#endif
