import type { CodedError } from '../../src/codec/errors.js';

/** The code of the `type` error `f` throws, or null when it returns; any other error is rethrown. */
export function codeOf<C extends string>(
  type: abstract new (...args: never[]) => CodedError<C>,
  f: () => unknown,
): C | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof type) return e.code;
    throw e;
  }
}
