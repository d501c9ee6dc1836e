/**
 * Kubelet errors with upstream's waiting reasons, so pod status shows what a user must fix.
 */
import { KnodeError } from '../lib/errors.js';

export class KubeletError extends KnodeError {}

/** A container cannot be configured (missing ConfigMap key, bad env reference): CreateContainerConfigError. */
export class ContainerConfigError extends KubeletError {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_KUBELET_CONTAINER_CONFIG', message, options);
  }
}

/** A volume cannot be set up (missing ConfigMap/Secret): the pod stays ContainerCreating with a FailedMount event. */
export class VolumeSetupError extends KubeletError {
  readonly reason = 'FailedMount';
  constructor(
    readonly volume: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_KUBELET_VOLUME_SETUP', message, options);
  }
}

/** Pulling an image failed: ErrImagePull, then ImagePullBackOff. */
export class ImagePullError extends KubeletError {
  readonly reason = 'ErrImagePull';
  constructor(
    readonly image: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_KUBELET_IMAGE_PULL', message, options);
  }
}

/** The runtime refused to create or start a container: RunContainerError / CreateContainerError. */
export class RunContainerError extends KubeletError {
  constructor(
    readonly reason: 'RunContainerError' | 'CreateContainerError',
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_KUBELET_RUN_CONTAINER', message, options);
  }
}
