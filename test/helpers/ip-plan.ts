/**
 * The IP plan of every test and of the lab, in one place.
 *
 *   127.0.0.1, random free ports      control planes started by tests (apiserver on loopback only)
 *   10.96.0.0/12                      Service ClusterIPs (upstream default); 10.96.0.1 = kubernetes
 *   10.244.0.0/16                     pod IPs (upstream default cluster CIDR), a /24 per node
 *   30000-32767                       NodePorts (upstream default)
 *
 * Nothing here is routed in the machine's root network namespace: tests only open sockets on loopback.
 */
export const LOOPBACK = '127.0.0.1';
export const SERVICE_CIDR = '10.96.0.0/12';
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;
