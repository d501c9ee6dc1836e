/**
 * lab/images: the lab's container images, built locally (no registry is reachable) as
 * docker-archive tarballs and imported into a node's containerd with `ctr`.
 *
 *   lab-images.ts      the images (pause, testserver 1.0/2.0) and ensureLabImages(dir)
 *   build.ts           buildImage(def, dir): rootfs + gcc -static helpers, cached by input hash
 *   docker-archive.ts  manifest.json + config JSON + layer tar (pure)
 *   tar.ts             ustar writer/reader (pure)
 *   import.ts          importImage({ address, tarPath }) via `ctr -n k8s.io images import`
 *   src/*.c            pause (PID 1 of sandboxes) and testserver (HTTP :8083, UDP :8081; HTTP
 *                      /hostname /healthz /clientip /echo?msg= /bytes?n= /dial /version /exit)
 */
export {
  PAUSE_IMAGE,
  TESTSERVER_HTTP_PORT,
  TESTSERVER_IMAGE,
  TESTSERVER_IMAGE_V2,
  TESTSERVER_UDP_PORT,
  ensureLabImages,
  pauseImageDefinition,
  testserverImageDefinition,
} from './lab-images.js';
export type { LabImages } from './lab-images.js';
export { BUILDER_VERSION, buildImage, buildRootfs, findImageSource } from './build.js';
export type { BuildDeps, BuiltImage, ImageDefinition, ProgramSpec } from './build.js';
export { buildDockerArchive } from './docker-archive.js';
export type { DockerArchive, DockerArchiveSpec, ImageConfigSpec } from './docker-archive.js';
export { buildTar, readTar } from './tar.js';
export type { ReadTarEntry, TarEntry } from './tar.js';
export { importImage, importImageArgv } from './import.js';
export type { ImportImageOptions } from './import.js';
export { ImageBuildError, ImageImportError, ImagePrerequisiteError } from './errors.js';
