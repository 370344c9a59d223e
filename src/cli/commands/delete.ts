import type { CommandSpec } from '../command.js';
import { notFound, storeKey } from './store-key.js';

/** `tsession delete <id>`: removes one session. */
export const remove: CommandSpec = {
  name: 'delete',
  args: ['<id>'],
  description: 'delete one session (by store key or full client id)',
  options: {},
  readOnly: false,
  async run({ store }, { args, globals }) {
    const key = storeKey(args[0] as string);
    const deleted = await store.destroy(key);
    if (globals.json) console.log(JSON.stringify({ key, deleted }));
    else if (deleted) console.log(`deleted ${key}`);
    if (!deleted) notFound(key);
  },
};
