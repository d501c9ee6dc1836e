/**
 * In-memory ImageService with containerd's semantics: references normalise like docker's
 * (`busybox` is `docker.io/library/busybox:latest`), an image is found by any of its tags or its
 * id, ImageStatus of a missing image resolves with no image, RemoveImage is idempotent, and a pull
 * succeeds only for references a test declared pullable, failing otherwise as containerd does when
 * no registry answers (gRPC UNKNOWN, "failed to pull and unpack image").
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { realClock } from '../../lib/clock.js';
import { GrpcCode } from './errors.js';
import { CallRecorder, FakeNanoClock, fakeError } from './fake-support.js';
import type { ImageService } from './services.js';
import type { CallOptions } from './types-common.js';
import type {
  Image,
  ImageFsInfoRequest,
  ImageFsInfoResponse,
  ImageStatusRequest,
  ImageStatusResponse,
  ListImagesRequest,
  ListImagesResponse,
  PullImageRequest,
  PullImageResponse,
  RemoveImageRequest,
  RemoveImageResponse,
} from './types-image.js';

export interface FakeImageInit {
  /** A reference such as `knode.local/testserver:1.0`. */
  readonly ref: string;
  /** `sha256:<64 hex>`; derived from the reference when omitted. */
  readonly id?: string;
  readonly size?: number;
  readonly uid?: number;
  readonly username?: string;
  readonly pinned?: boolean;
}

/** Docker-style normalisation: default domain docker.io, `library/` for single names, tag latest. */
export function normalizeImageRef(ref: string): string {
  if (ref.startsWith('sha256:')) return ref;
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  let name = hasDomain ? ref : `docker.io/${slash < 0 ? 'library/' : ''}${ref}`;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  if (!name.includes('@') && !lastSegment.includes(':')) name = `${name}:latest`;
  return name;
}

export type ImageMethod = keyof ImageService;

export class FakeImageService implements ImageService {
  readonly recorder = new CallRecorder<ImageMethod>();
  private readonly images = new Map<string, Image>();
  private readonly pullable = new Map<string, FakeImageInit>();
  private readonly nanos: FakeNanoClock;

  constructor(opts: { readonly clock?: Clock } = {}) {
    this.nanos = new FakeNanoClock(opts.clock ?? realClock);
  }

  /** Makes an image present, as `ctr images import` would. Returns it. */
  addImage(init: FakeImageInit): Image {
    const ref = normalizeImageRef(init.ref);
    const id = init.id ?? `sha256:${createHash('sha256').update(ref).digest('hex')}`;
    const existing = this.images.get(id);
    // a tag moves to the new image, as with a real re-import
    for (const img of this.images.values()) {
      if (img.id !== id && img.repoTags.includes(ref)) this.images.set(img.id, { ...img, repoTags: img.repoTags.filter((t) => t !== ref) });
    }
    const image: Image = {
      id,
      repoTags: [...new Set([...(existing?.repoTags ?? []), ref])],
      repoDigests: existing?.repoDigests ?? [],
      size: init.size ?? existing?.size ?? 2_000_000,
      ...(init.uid !== undefined ? { uid: { value: init.uid } } : {}),
      username: init.username ?? '',
      pinned: init.pinned ?? existing?.pinned ?? false,
    };
    this.images.set(id, image);
    return image;
  }

  /** Lets a later PullImage of `init.ref` succeed (the image appears then). */
  allowPull(init: FakeImageInit): void {
    this.pullable.set(normalizeImageRef(init.ref), init);
  }

  /** The present image a reference or id names, if any. */
  resolve(refOrId: string): Image | undefined {
    const byId = this.images.get(refOrId);
    if (byId) return byId;
    const ref = normalizeImageRef(refOrId);
    for (const img of this.images.values()) if (img.repoTags.includes(ref) || img.repoDigests.includes(ref)) return img;
    return undefined;
  }

  async listImages(req: ListImagesRequest, _opts?: CallOptions): Promise<ListImagesResponse> {
    this.recorder.enter('listImages', req);
    const wanted = req.filter?.image?.image;
    const images = [...this.images.values()].filter((img) => !wanted || this.resolve(wanted)?.id === img.id);
    return { images };
  }

  async imageStatus(req: ImageStatusRequest, _opts?: CallOptions): Promise<ImageStatusResponse> {
    this.recorder.enter('imageStatus', req);
    const image = this.resolve(req.image.image);
    return { ...(image ? { image } : {}), info: {} };
  }

  async pullImage(req: PullImageRequest, _opts?: CallOptions): Promise<PullImageResponse> {
    this.recorder.enter('pullImage', req);
    const ref = normalizeImageRef(req.image.image);
    const init = this.pullable.get(ref);
    if (!init) {
      const present = this.resolve(req.image.image);
      if (present) return { imageRef: present.id };
      // what containerd answers when no registry is reachable (the only case on knode's machines)
      throw fakeError(
        'PullImage',
        GrpcCode.UNKNOWN,
        `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": no registry is reachable`,
      );
    }
    return { imageRef: this.addImage({ ...init, ref }).id };
  }

  async removeImage(req: RemoveImageRequest, _opts?: CallOptions): Promise<RemoveImageResponse> {
    this.recorder.enter('removeImage', req);
    const image = this.resolve(req.image.image);
    if (image) this.images.delete(image.id);
    return {};
  }

  async imageFsInfo(req: ImageFsInfoRequest, _opts?: CallOptions): Promise<ImageFsInfoResponse> {
    this.recorder.enter('imageFsInfo', req);
    const used = [...this.images.values()].reduce((sum, img) => sum + img.size, 0);
    return {
      imageFilesystems: [
        {
          timestamp: this.nanos.now(),
          fsId: { mountpoint: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs' },
          usedBytes: { value: used },
          inodesUsed: { value: this.images.size * 400 },
        },
      ],
      containerFilesystems: [],
    };
  }
}
