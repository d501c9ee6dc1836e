/** Helpers shared by the apiserver's unit tests (not used by the server itself). */
import { ApiError } from './errors.js';

/** The ApiError `p` rejects with; anything else (or no rejection) fails the test. */
export async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}
