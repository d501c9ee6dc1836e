/**
 * A caller that leaves while the kubelet is still setting up (CRI call, dialling the runtime) must
 * not leave the runtime side open: nothing would ever close it once the caller's 'close' is past.
 * Also: bytes the runtime sends along with its 101 reach the first listener.
 */
import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { responseForUpgrade } from '../../lib/websocket/index.js';
import type { RuntimePod } from '../types.js';
import { serveRemoteCommand } from './exec.js';
import { servePortForward } from './port-forward.js';
import { TUNNEL_PROTOCOL } from './port-forward-protocol.js';
import { SpdyRuntimeStream } from './runtime-stream.js';
import type { RuntimeStream } from './runtime-stream.js';
import { encodeData } from '../../lib/spdy/frames.js';

function memorySocket(): { socket: Duplex; written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      cb();
    },
  });
  return { socket, written };
}

/** An upgrade request as the kubelet server hands it to a handler. */
function upgradeRequest(protocol: string): { req: IncomingMessage; res: ReturnType<typeof responseForUpgrade>; socket: Duplex; written: Buffer[] } {
  const { socket, written } = memorySocket();
  const req = new IncomingMessage(socket as unknown as Socket);
  req.method = 'GET';
  req.headers = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': protocol };
  return { req, res: responseForUpgrade(req, socket, Buffer.alloc(0)), socket, written };
}

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', uid: 'u-1' }, spec: { containers: [{ name: 'app' }] } };
const runtimePod: RuntimePod = {
  uid: 'u-1',
  name: 'web',
  namespace: 'shop',
  sandboxes: [{ id: 's-1', state: 'ready', attempt: 0, createdAt: 0, hostNetwork: false }],
  containers: [{ id: 'c-app', name: 'app', state: 'running', sandboxId: 's-1', attempt: 0, createdAt: 0, image: 'i', imageRef: 'i', hash: 'h', restartCount: 0, isInit: false }],
};

describe('a caller that leaves during setup', () => {
  it('exec: the runtime stream dialled meanwhile is closed, the upgrade never answered', async () => {
    const up = upgradeRequest('v5.channel.k8s.io');
    let closed = 0;
    const stream: RuntimeStream = {
      onMessage: () => {},
      onClose: () => {},
      send: () => true,
      closeStdin: () => {},
      close: () => void closed++,
      pause: () => {},
      resume: () => {},
      drained: async () => {},
    };
    const deps = {
      pods: () => [pod],
      runtimePod: () => runtimePod,
      runtime: { exec: async () => ({ url: 'http://127.0.0.1:1/exec/x' }), attach: async () => ({ url: '' }) },
      dial: async (): Promise<RuntimeStream> => {
        up.socket.destroy(); // kubectl goes away while the kubelet dials containerd
        await new Promise((r) => setImmediate(r));
        return stream;
      },
    };
    await serveRemoteCommand(deps, 'exec', up.req, up.res, ['shop', 'web', 'app'], new URLSearchParams('command=sh&stdout=1'));
    expect(closed).toBe(1);
    expect(Buffer.concat(up.written).toString()).not.toContain('101');
  });

  it('exec: no dial at all when the caller left during the CRI call', async () => {
    const up = upgradeRequest('v5.channel.k8s.io');
    let dialled = false;
    const deps = {
      pods: () => [pod],
      runtimePod: () => runtimePod,
      runtime: {
        exec: async () => {
          up.socket.destroy();
          await new Promise((r) => setImmediate(r));
          return { url: 'http://127.0.0.1:1/exec/x' };
        },
        attach: async () => ({ url: '' }),
      },
      dial: async (): Promise<RuntimeStream> => {
        dialled = true;
        throw new Error('unexpected');
      },
    };
    await serveRemoteCommand(deps, 'exec', up.req, up.res, ['shop', 'web', 'app'], new URLSearchParams('command=sh&stdout=1'));
    expect(dialled).toBe(false);
  });

  it('port-forward: the runtime connection dialled meanwhile is destroyed', async () => {
    const up = upgradeRequest(TUNNEL_PROTOCOL);
    const runtime = memorySocket();
    const deps = {
      pods: () => [pod],
      runtimePod: () => runtimePod,
      runtime: { portForward: async () => ({ url: 'http://127.0.0.1:1/portforward/x' }) },
      dial: async () => {
        up.socket.destroy();
        await new Promise((r) => setImmediate(r));
        return { socket: runtime.socket, head: Buffer.alloc(0) };
      },
    };
    await servePortForward(deps, up.req, up.res, ['shop', 'web'], new URLSearchParams('port=80'));
    expect(runtime.socket.destroyed).toBe(true);
    expect(Buffer.concat(up.written).toString()).not.toContain('101');
  });
});

describe('SpdyRuntimeStream', () => {
  it('hands data read with the 101 to the first listener', async () => {
    const { socket } = memorySocket();
    // streams: error 1, stdout 3
    const stream = new SpdyRuntimeStream(socket, encodeData(3, Buffer.from('early')), { stdin: false, stdout: true, stderr: false, tty: false });
    await new Promise((r) => setImmediate(r));
    const got: Buffer[] = [];
    stream.onMessage((m) => got.push(m));
    expect(got).toEqual([Buffer.concat([Buffer.from([1]), Buffer.from('early')])]);
  });
});
