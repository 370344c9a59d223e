/**
 * The routes every adapter serves in the shared suite, defined once over a `Session`:
 * each adapter test registers them on its framework and renders their results.
 */
import type { Session } from '../../../src/index.js';

/** What a route answers; each adapter renders it the framework's way. */
export type SuiteResult =
  | { readonly kind: 'text'; readonly body: string }
  | { readonly kind: 'redirect'; readonly location: string }
  /** A chunked body written in several pieces, with no Content-Length. */
  | { readonly kind: 'stream'; readonly chunks: readonly string[] }
  /** A body sent with an explicit Content-Length header. */
  | { readonly kind: 'length'; readonly body: string };

/** One route of the suite. */
export interface SuiteRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Register it through the adapter's conflict-retry wrapper. */
  readonly retry?: boolean;
  run(session: Session): Promise<SuiteResult>;
}

/** Lets a test hold /conflict handlers between their read and their write. */
export class Gate {
  arrived = 0;
  #open: () => void = () => {};
  #opened = new Promise<void>((resolve) => (this.#open = resolve));
  #waiters: (() => void)[] = [];

  /** A handler has read; resolves once the gate opens. */
  arrive(): Promise<void> {
    this.arrived++;
    for (const wake of this.#waiters.splice(0)) wake();
    return this.#opened;
  }

  /** Resolves once `n` handlers have arrived. */
  async waitFor(n: number): Promise<void> {
    while (this.arrived < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  open(): void {
    this.#open();
  }
}

const PKG = 'suite.counter';
const text = (body: string): SuiteResult => ({ kind: 'text', body });

async function increment(session: Session): Promise<number> {
  const data = await session.get(PKG);
  const n = ((data.get('count') as number | undefined) ?? 0) + 1;
  data.set('count', n);
  return n;
}

async function readCount(session: Session): Promise<string> {
  const data = await session.get(PKG);
  return String((data.get('count') as number | undefined) ?? 0);
}

/** The routes, with `gate()` giving the gate of the test that is running. */
export function suiteRoutes(gate: () => Gate): SuiteRoute[] {
  const conflict = async (session: Session): Promise<SuiteResult> => {
    const data = await session.get(PKG);
    const n = ((data.get('count') as number | undefined) ?? 0) + 1;
    await gate().arrive();
    data.set('count', n);
    return text(String(n));
  };
  return [
    { method: 'GET', path: '/count', run: async (s) => text(String(await increment(s))) },
    // The form conveyance: the id arrives in the POSTed form's `tsession` field.
    { method: 'POST', path: '/form-count', run: async (s) => text(String(await increment(s))) },
    { method: 'GET', path: '/read', run: async (s) => text(await readCount(s)) },
    { method: 'GET', path: '/none', run: async () => text('none') },
    { method: 'GET', path: '/id', run: async (s) => text(s.clientId) },
    {
      method: 'GET',
      path: '/user',
      run: async (s) => text(String((await s.get('suite.auth')).get('user') ?? '')),
    },
    {
      method: 'POST',
      path: '/login',
      run: async (s) => {
        await s.regenerate();
        (await s.get('suite.auth')).set('user', 'alice');
        return text('welcome');
      },
    },
    {
      method: 'POST',
      path: '/logout',
      run: async (s) => {
        s.invalidate();
        return text('bye');
      },
    },
    {
      method: 'GET',
      path: '/cart',
      run: async (s) => {
        const cart = await s.get('suite.cart');
        const items = cart.get('items') as number[] | undefined;
        if (items) items.push(items.length + 1);
        else cart.set('items', [1]);
        return text(JSON.stringify(cart.get('items')));
      },
    },
    {
      method: 'GET',
      path: '/redirect',
      run: async (s) => {
        await increment(s);
        return { kind: 'redirect', location: '/read' };
      },
    },
    {
      method: 'GET',
      path: '/boom',
      run: async (s) => {
        await increment(s);
        throw new Error('boom');
      },
    },
    {
      method: 'GET',
      path: '/unserializable',
      run: async (s) => {
        await increment(s);
        (await s.get(PKG)).set('handle', () => 'a function cannot be stored');
        return text('never committed');
      },
    },
    { method: 'GET', path: '/conflict', run: conflict },
    { method: 'GET', path: '/conflict-retry', retry: true, run: conflict },
    {
      method: 'GET',
      path: '/stream',
      run: async (s) => {
        const n = await increment(s);
        return { kind: 'stream', chunks: ['chunk-1;', 'chunk-2;', `count=${n}`] };
      },
    },
    {
      method: 'GET',
      path: '/length',
      run: async (s) => ({ kind: 'length', body: `count=${await increment(s)}` }),
    },
  ];
}
