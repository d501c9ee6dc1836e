/**
 * Decoding errors. Every error names the byte offset (from the start of the buffer handed to the
 * decoder, so a user can find it in a hex dump of the request body) and the JSON path of the field being
 * read, e.g. `at byte 57 (spec.template.spec.containers[0].ports[0].containerPort): truncated varint`.
 */
import { KnodeError } from '../../lib/errors.js';

export type ProtobufErrorCode =
  /** The body does not start with Kubernetes' 4-byte `k8s\0` prefix. */
  | 'ERR_PROTOBUF_NO_MAGIC'
  /** The envelope names a kind other than the one addressed, or one we have no table for. */
  | 'ERR_PROTOBUF_WRONG_KIND'
  /** A content encoding (compression) inside the envelope, which nothing upstream sends. */
  | 'ERR_PROTOBUF_UNSUPPORTED'
  | 'ERR_PROTOBUF_TRUNCATED'
  | 'ERR_PROTOBUF_MALFORMED'
  | 'ERR_PROTOBUF_WIRE_TYPE'
  | 'ERR_PROTOBUF_UNKNOWN_MESSAGE'
  | 'ERR_PROTOBUF_BAD_VALUE';

export class ProtobufError extends KnodeError {
  constructor(
    code: ProtobufErrorCode,
    readonly offset: number,
    readonly path: string,
    readonly detail: string,
  ) {
    super(code, `at byte ${offset}${path === '' ? '' : ` (${path})`}: ${detail}`);
  }
}
