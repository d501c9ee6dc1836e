/**
 * Base class for every knode error. Each component has its own errors.ts with subclasses;
 * callers decide by `instanceof` or by the stable `code`, never by message text.
 */
export class KnodeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
