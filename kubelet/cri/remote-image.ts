/**
 * ImageService over gRPC (runtime.v1.ImageService), sharing the runtime client's channel.
 */
import type { ImageService } from './services.js';
import { imageOperations as ops } from './services.js';
import type { CriTransport } from './transport.js';
import type { CallOptions } from './types-common.js';
import type {
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

const S = 'ImageService';

export class RemoteImageService implements ImageService {
  constructor(private readonly t: CriTransport) {}

  listImages(req: ListImagesRequest, opts?: CallOptions): Promise<ListImagesResponse> {
    return this.t.call(S, ops.listImages, req, opts);
  }
  imageStatus(req: ImageStatusRequest, opts?: CallOptions): Promise<ImageStatusResponse> {
    return this.t.call(S, ops.imageStatus, req, opts);
  }
  pullImage(req: PullImageRequest, opts?: CallOptions): Promise<PullImageResponse> {
    return this.t.call(S, ops.pullImage, req, opts);
  }
  removeImage(req: RemoveImageRequest, opts?: CallOptions): Promise<RemoveImageResponse> {
    return this.t.call(S, ops.removeImage, req, opts);
  }
  imageFsInfo(req: ImageFsInfoRequest, opts?: CallOptions): Promise<ImageFsInfoResponse> {
    return this.t.call(S, ops.imageFsInfo, req, opts);
  }
}
