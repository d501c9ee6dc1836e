/**
 * The IP plan of every test and of the lab, in one place.
 *
 *   127.0.0.1, random free ports      control planes started by tests (apiserver on loopback only)
 *   10.96.0.0/12                      Service ClusterIPs (upstream default); 10.96.0.1 = kubernetes
 *   10.244.0.0/16                     pod IPs (upstream default cluster CIDR), a /24 per node
 *   30000-32767                       NodePorts (upstream default)
 *   172.31.250.0/24 (first free of 172.31.250-255, 10.255.250-255, 192.168.250-255)
 *                                     the lab's underlay (lab/plan.ts): .1 root-namespace veth,
 *                                     .10 control plane, .10+i worker i; pods 10.244.i.0/24 on worker i
 *   knode-t-<random> namespaces       throwaway namespaces of host tests
 *
 * Nothing here is routed in the machine's root network namespace: it gets one veth with one underlay
 * address, nothing else.
 */
export const LOOPBACK = '127.0.0.1';
export const SERVICE_CIDR = '10.96.0.0/12';
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;
