/**
 * Services through kube-proxy in nftables mode (the default) on a real 2-worker lab: the suite is
 * test/helpers/services-suite.ts, shared with services-iptables.test.ts.
 */
import { describeServices } from './helpers/services-suite.js';

describeServices('nftables');
