import { type CommandSpec, now } from '../command.js';
import { sessionJson, sessionText } from '../inspect.js';
import { notFound, storeKey } from './store-key.js';

/** `tsession show <id>`: one session's times and data. */
export const show: CommandSpec = {
  name: 'show',
  args: ['<id>'],
  description: 'show one session (by store key or full client id)',
  options: {},
  readOnly: true,
  async run({ store }, { args, globals }) {
    const key = storeKey(args[0] as string);
    const session = await store.load(key, now());
    if (!session) return notFound(key);
    console.log(globals.json ? JSON.stringify(sessionJson(key, session), null, 2) : sessionText(key, session));
  },
};
