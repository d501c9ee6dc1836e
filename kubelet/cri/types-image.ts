/**
 * CRI runtime.v1 image messages (see types-common.ts for the conventions every CRI type follows).
 */
import type { FilesystemUsage, ImageSpec, Int64Value, StringMap } from './types-common.js';
import type { PodSandboxConfig } from './types-sandbox.js';

export interface ListImagesRequest {
  readonly filter?: { readonly image?: ImageSpec };
}

export interface Image {
  /** `sha256:<config digest>`. */
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  readonly size: number;
  /** The image's default user when numeric; otherwise see `username`. */
  readonly uid?: Int64Value;
  readonly username: string;
  readonly spec?: ImageSpec;
  /** Exempt from image garbage collection (containerd pins its sandbox image). */
  readonly pinned: boolean;
}

export interface ListImagesResponse {
  readonly images: readonly Image[];
}

export interface ImageStatusRequest {
  readonly image: ImageSpec;
  readonly verbose?: boolean;
}

export interface ImageStatusResponse {
  /** Absent when the image is not present: that is not an error. */
  readonly image?: Image;
  readonly info: StringMap;
}

export interface AuthConfig {
  readonly username?: string;
  readonly password?: string;
  readonly auth?: string;
  readonly serverAddress?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

export interface PullImageRequest {
  readonly image: ImageSpec;
  readonly auth?: AuthConfig;
  readonly sandboxConfig?: PodSandboxConfig;
}

export interface PullImageResponse {
  /** The image id (containerd) or digest the runtime resolved the reference to. */
  readonly imageRef: string;
}

export interface RemoveImageRequest {
  readonly image: ImageSpec;
}

export type RemoveImageResponse = Readonly<Record<string, never>>;

export type ImageFsInfoRequest = Readonly<Record<string, never>>;

export interface ImageFsInfoResponse {
  readonly imageFilesystems: readonly FilesystemUsage[];
  readonly containerFilesystems: readonly FilesystemUsage[];
}
