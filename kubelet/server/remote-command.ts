/**
 * The Kubernetes RemoteCommand protocol over WebSocket (exec, attach), the pure part: query
 * options, subprotocol choice, and the mapping of messages between the client (kubectl, through the
 * apiserver) and the container runtime's streaming server.
 *
 * Every binary message is one channel byte and a payload: 0 stdin, 1 stdout, 2 stderr, 3 error
 * (a meta/v1 Status JSON from v4 on: `Success`, or `Failure` with reason NonZeroExitCode and the
 * exit code in details.causes[reason=ExitCode]), 4 resize (`{"Width":w,"Height":h}`).
 * v5.channel.k8s.io adds channel 255: `[255, n]` closes the client's stream n (stdin: EOF).
 *
 * The kubelet offers kubectl v5 and v4 but containerd 1.6's streaming server speaks v4 at most,
 * so v5's stdin close cannot be passed on as such; `planStdinClose` decides what to do instead
 * (see exec.ts for the consequences).
 */

export const V5_PROTOCOL = 'v5.channel.k8s.io';
export const V4_PROTOCOL = 'v4.channel.k8s.io';
/** What the kubelet offers its clients, preferred first. v3 and older use a plain-text error channel. */
export const CLIENT_PROTOCOLS: readonly string[] = [V5_PROTOCOL, V4_PROTOCOL];
/** What the kubelet asks of the runtime's streaming server. */
export const RUNTIME_PROTOCOLS: readonly string[] = [V4_PROTOCOL];

export const Channel = {
  Stdin: 0,
  Stdout: 1,
  Stderr: 2,
  Error: 3,
  Resize: 4,
  Close: 255,
} as const;

export type StreamKind = 'exec' | 'attach';

export interface StreamOptions {
  /** exec only; attach has none. */
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

export class StreamOptionsError extends Error {
  readonly code = 'ERR_KUBELET_STREAM_OPTIONS';
}

/** Upstream's kubelet reads "1"; the apiserver and other clients send "true". */
function flag(params: URLSearchParams, name: string): boolean {
  const v = params.get(name);
  return v === '1' || v === 'true' || v === 'True' || v === 'TRUE' || v === 't';
}

/**
 * Options of an exec or attach request as upstream's kubelet reads them: a tty with stderr drops
 * stderr (a terminal has one output stream), and at least one stream must be asked for.
 */
export function parseStreamOptions(kind: StreamKind, params: URLSearchParams): StreamOptions {
  const tty = flag(params, 'tty');
  const stdin = flag(params, 'stdin');
  const stdout = flag(params, 'stdout');
  const stderr = flag(params, 'stderr') && !tty;
  if (!stdin && !stdout && !stderr) throw new StreamOptionsError('you must specify at least 1 of stdin, stdout, stderr');
  const command = kind === 'exec' ? params.getAll('command') : [];
  if (kind === 'exec' && command.length === 0) throw new StreamOptionsError('you must specify at least one command for the container');
  return { command, stdin, stdout, stderr, tty };
}

/** Path segments after /exec or /attach: {ns}/{pod}/{container} or {ns}/{pod}/{uid}/{container}. */
export interface StreamTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly uid?: string;
  readonly container: string;
}

export function parseStreamTarget(kind: StreamKind, segments: readonly string[]): StreamTarget {
  if (segments.some((s) => s === '')) throw new StreamOptionsError(`expected /${kind}/{podNamespace}/{podID}/{containerName}`);
  const [namespace, pod, a, b] = segments;
  if (segments.length === 3 && namespace && pod && a) return { namespace, pod, container: a };
  if (segments.length === 4 && namespace && pod && a && b) return { namespace, pod, uid: a, container: b };
  throw new StreamOptionsError(`expected /${kind}/{podNamespace}/{podID}/{containerName}`);
}

/** What to do with one message from the client. */
export type ClientMessageAction =
  | { readonly type: 'forward'; readonly data: Buffer }
  | { readonly type: 'close-stdin' }
  | { readonly type: 'ignore'; readonly why: string };

export function mapClientMessage(protocol: string, data: Buffer): ClientMessageAction {
  if (data.length === 0) return { type: 'ignore', why: 'empty message' };
  const channel = data[0];
  switch (channel) {
    case Channel.Stdin:
    case Channel.Resize:
      return { type: 'forward', data };
    case Channel.Close:
      if (protocol !== V5_PROTOCOL) return { type: 'ignore', why: 'channel 255 outside v5' };
      return data[1] === Channel.Stdin ? { type: 'close-stdin' } : { type: 'ignore', why: `close of channel ${data[1] ?? 'none'}` };
    default:
      // stdout, stderr and error only flow from the server
      return { type: 'ignore', why: `client wrote on channel ${channel ?? 'none'}` };
  }
}

/**
 * How to pass on a v5 stdin close to a v4 runtime. With a tty, an EOT byte (^D) is end of input
 * for a terminal in canonical mode. Without one v4 has no signal at all: the only way to give the
 * process EOF is ending the runtime connection, which also ends its output and exit status (the
 * runtime closes every stream when its WebSocket reader stops).
 */
export type StdinClosePlan = { readonly type: 'send'; readonly data: Buffer } | { readonly type: 'end-runtime-connection' };

export function planStdinClose(opts: Pick<StreamOptions, 'tty'>): StdinClosePlan {
  if (opts.tty) return { type: 'send', data: Buffer.from([Channel.Stdin, 0x04]) };
  return { type: 'end-runtime-connection' };
}

/** Messages from the runtime go to the client unchanged: v4 and v5 share channels 0 to 4. */
export function mapRuntimeMessage(data: Buffer): Buffer | undefined {
  if (data.length === 0) return undefined;
  return data;
}

/** The Status JSON on the error channel for a failure the kubelet itself detects. */
export function failureStatus(message: string): Buffer {
  const status = { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
  return Buffer.concat([Buffer.from([Channel.Error]), Buffer.from(JSON.stringify(status))]);
}
