/**
 * Builds a docker-archive image tarball (what `docker save` writes and `ctr images import`
 * reads): `manifest.json` naming the config and layers, the image config JSON, one uncompressed
 * layer tar. Pure: inputs to bytes, plus the digests the runtime will report (the image id is the
 * sha256 of the config JSON, the layer's diff_id the sha256 of its tar).
 */
import { createHash } from 'node:crypto';
import { buildTar } from './tar.js';
import type { TarEntry } from './tar.js';

export interface ImageConfigSpec {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
  /** `uid[:gid]` or a name from /etc/passwd; empty means root. */
  readonly user?: string;
  /** e.g. `8083/tcp`. */
  readonly exposedPorts?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly stopSignal?: string;
}

export interface DockerArchiveSpec {
  /** Full references, e.g. `knode.local/pause:3.10`. */
  readonly repoTags: readonly string[];
  readonly layer: readonly TarEntry[];
  readonly config: ImageConfigSpec;
  /** RFC 3339; fixed so archives are reproducible. */
  readonly created?: string;
}

export interface DockerArchive {
  readonly tar: Buffer;
  /** `sha256:<hex>` of the config: the id containerd's CRI reports for the image. */
  readonly imageId: string;
  readonly diffId: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function buildDockerArchive(spec: DockerArchiveSpec): DockerArchive {
  const layerTar = buildTar(spec.layer);
  const layerHex = sha256(layerTar);
  const created = spec.created ?? '2026-01-01T00:00:00Z';
  const c = spec.config;
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: {
      ...(c.user !== undefined ? { User: c.user } : {}),
      ...(c.exposedPorts ? { ExposedPorts: Object.fromEntries(c.exposedPorts.map((p) => [p, {}])) } : {}),
      Env: c.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { Cmd: c.cmd } : {}),
      ...(c.workingDir !== undefined ? { WorkingDir: c.workingDir } : {}),
      ...(c.labels ? { Labels: c.labels } : {}),
      ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
    history: [{ created, created_by: 'knode lab image builder' }],
  };
  const configJson = Buffer.from(JSON.stringify(config));
  const configHex = sha256(configJson);
  const manifest = [{ Config: `${configHex}.json`, RepoTags: spec.repoTags, Layers: [`${layerHex}/layer.tar`] }];
  const tar = buildTar([
    { type: 'dir', path: layerHex },
    { type: 'file', path: `${layerHex}/layer.tar`, data: layerTar },
    { type: 'file', path: `${configHex}.json`, data: configJson },
    { type: 'file', path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
  ]);
  return { tar, imageId: `sha256:${configHex}`, diffId: `sha256:${layerHex}` };
}
