import { jsonCodec } from '../../codec/codec.js';
import { recordsOfPrincipal } from '../../session/principals.js';
import type { ScannedSession, SessionStore } from '../../stores/types.js';
import { type CommandInput, type CommandSpec, countOption, now } from '../command.js';
import { sessionJson, summaryLine } from '../inspect.js';

/** `tsession list`: one line per live session, or per live session of one user with `--principal`. */
export const list: CommandSpec = {
  name: 'list',
  args: [],
  description: 'list live sessions: key, last access, expiry, packages',
  options: {
    limit: { type: 'string', short: 'n', value: '<count>', description: 'at most this many', default: '100' },
    principal: {
      type: 'string',
      short: 'p',
      value: '<user>',
      description: "only this user's sessions (session.setPrincipal), through the store's index",
    },
  },
  readOnly: true,
  async run({ store }, input) {
    const limit = countOption(input, 'limit');
    let shown = 0;
    for await (const session of sessionsToList(store, input)) {
      if (shown++ >= limit) break;
      console.log(input.globals.json ? JSON.stringify(sessionJson(session.key, session)) : summaryLine(session));
    }
  },
};

/** Every live session, or the user's only (the CLI reads values as `jsonCodec` wrote them). */
async function* sessionsToList(store: SessionStore, input: CommandInput): AsyncIterable<ScannedSession> {
  const principal = input.options.principal;
  if (typeof principal !== 'string') {
    yield* store.scan(now());
    return;
  }
  yield* await recordsOfPrincipal(store, jsonCodec, principal, now());
}
