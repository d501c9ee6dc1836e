/**
 * Services through kube-proxy in iptables mode (`knode agent --proxy-mode iptables`) on a real
 * 2-worker lab: the same suite as services.test.ts (test/helpers/services-suite.ts).
 */
import { describeServices } from './helpers/services-suite.js';

describeServices('iptables');
