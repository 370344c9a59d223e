import { ConflictError, SessionConfigError } from '../../errors.js';
import type { Session } from '../../session/session.js';

/** Options of every adapter's `retryOnConflict`. */
export interface RetryOptions {
  /** Runs of the handler in all, the first included. @default 3 */
  attempts?: number;
}

/** The number of attempts the options allow, checked once when the wrapper is made. */
export function retryAttempts(options: RetryOptions): number {
  const attempts = options.attempts ?? 3;
  if (!(Number.isInteger(attempts) && attempts >= 1)) {
    throw new SessionConfigError('retryOnConflict: `attempts` must be an integer ≥ 1 (the first run included)');
  }
  return attempts;
}

/**
 * Commits the session an attempt left open. Resolves true when the request is done
 * (committed, or committed elsewhere already) and false when the attempt lost a race and
 * another one is allowed; rethrows anything else, and the last conflict.
 */
export async function committedOrRetry(session: Session, attempt: number, attempts: number): Promise<boolean> {
  if (!session.isOpen) return true;
  try {
    await session.commit();
    return true;
  } catch (error) {
    if (!(error instanceof ConflictError) || attempt >= attempts) throw error;
    return false;
  }
}
