/**
 * A clock: the current time in seconds since the epoch, fractions allowed.
 * Every time-dependent part of tsession takes one, so tests run on an injected clock.
 */
export type Clock = () => number;

/** The system clock, in seconds. */
export const systemClock: Clock = () => Date.now() / 1000;
