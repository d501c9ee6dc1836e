/**
 * The lab's images, built locally because no registry is reachable:
 *   knode.local/pause:3.10          the sandbox image (containerd's `sandbox_image`): /pause only,
 *                                   a static C program that reaps orphans and exits on SIGTERM/SIGINT
 *                                   (src/pause.c). Chosen over a busybox `sh` loop because a shell as
 *                                   PID 1 reaps only its own children and needs the whole busybox.
 *   knode.local/testserver:1.0/2.0  busybox-static (sh, nc, wget, ... in /bin) plus /testserver
 *                                   (src/testserver.c): HTTP :8083 (/hostname, /healthz, /dial, ...)
 *                                   and UDP :8081 (`hostname`). busybox's nc cannot do UDP, hence C.
 *                                   2.0 differs only in KNODE_TESTSERVER_VERSION (GET /version), so
 *                                   rolling updates change the image id.
 * Needs: busybox-static, gcc, libc6-dev (Debian).
 */
import type { ImageDefinition, BuildDeps, BuiltImage } from './build.js';
import { buildImage } from './build.js';

export const PAUSE_IMAGE = 'knode.local/pause:3.10';
export const TESTSERVER_IMAGE = 'knode.local/testserver:1.0';
export const TESTSERVER_IMAGE_V2 = 'knode.local/testserver:2.0';
export const TESTSERVER_HTTP_PORT = 8083;
export const TESTSERVER_UDP_PORT = 8081;

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function pauseImageDefinition(): ImageDefinition {
  return {
    repository: 'knode.local/pause',
    tag: '3.10',
    programs: [{ source: 'pause.c', dest: '/pause' }],
    busybox: false,
    config: { entrypoint: ['/pause'], env: [PATH_ENV], user: '65535:65535', workingDir: '/' },
  };
}

export function testserverImageDefinition(version: '1.0' | '2.0'): ImageDefinition {
  return {
    repository: 'knode.local/testserver',
    tag: version,
    programs: [{ source: 'testserver.c', dest: '/testserver' }],
    busybox: true,
    config: {
      entrypoint: ['/testserver'],
      env: [PATH_ENV, `KNODE_TESTSERVER_VERSION=${version}`],
      workingDir: '/',
      exposedPorts: [`${TESTSERVER_HTTP_PORT}/tcp`, `${TESTSERVER_UDP_PORT}/udp`],
      labels: { 'io.knode.image': 'testserver' },
    },
  };
}

export interface LabImages {
  /** docker-archive of knode.local/pause:3.10. */
  readonly pause: string;
  /** docker-archives of knode.local/testserver by tag. */
  readonly testserver: { readonly '1.0': string; readonly '2.0': string };
  /** Every archive, pause first: what a node imports. */
  readonly all: readonly string[];
  readonly images: readonly BuiltImage[];
}

/** Builds (or reuses from `dir`) every lab image. Idempotent; safe to call on every `lab up`. */
export async function ensureLabImages(dir: string, deps: BuildDeps = {}): Promise<LabImages> {
  // sequential: both testserver tags share one compiled binary, built by the first
  const pause = await buildImage(pauseImageDefinition(), dir, deps);
  const v1 = await buildImage(testserverImageDefinition('1.0'), dir, deps);
  const v2 = await buildImage(testserverImageDefinition('2.0'), dir, deps);
  return {
    pause: pause.path,
    testserver: { '1.0': v1.path, '2.0': v2.path },
    all: [pause.path, v1.path, v2.path],
    images: [pause, v1, v2],
  };
}
