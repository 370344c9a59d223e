import { type CommandSpec, countOption, now } from '../command.js';
import { sessionJson, summaryLine } from '../inspect.js';

/** `tsession list`: one line per live session. */
export const list: CommandSpec = {
  name: 'list',
  args: [],
  description: 'list live sessions: key, last access, expiry, packages',
  options: {
    limit: { type: 'string', short: 'n', value: '<count>', description: 'at most this many', default: '100' },
  },
  readOnly: true,
  async run({ store }, input) {
    const limit = countOption(input, 'limit');
    let shown = 0;
    for await (const session of store.scan(now())) {
      if (shown++ >= limit) break;
      console.log(input.globals.json ? JSON.stringify(sessionJson(session.key, session)) : summaryLine(session));
    }
  },
};
