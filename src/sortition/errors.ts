// Error type shared by the sortition library (src/sortition). Codes are stable strings so callers (CLI, API,
// metrics) can branch on them without parsing messages.
import { CodedError } from '../codec/errors.js';

/** Why a sortition operation was refused. */
export type SortitionErrorCode =
  | 'INVALID_ARGUMENT' // a parameter is out of its documented range or of the wrong shape
  | 'EMPTY_POOL' // nothing to draw from: no members, or all weight is zero
  | 'DUPLICATE_MEMBER' // the same public key / operator appears twice
  | 'WEIGHT_OVERFLOW' // a weight or a sum of weights does not fit the reference's integer width
  | 'POOL_FULL' // the Keep tree has no free leaf left
  | 'POOL_LOCKED' // the pool must be unlocked for membership changes
  | 'POOL_UNLOCKED' // the pool must be locked before a selection
  | 'ALREADY_REGISTERED' // operator already has a leaf
  | 'NOT_REGISTERED' // operator has no leaf
  | 'NOT_ELIGIBLE' // operator's stake gives no weight (below the minimum or the divisor)
  | 'NOT_ENOUGH_ELIGIBLE'; // every remaining candidate was skipped or removed before the group was full

export class SortitionError extends CodedError<SortitionErrorCode> {
  override readonly name = 'SortitionError';
}
