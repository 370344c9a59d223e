import { jsonCodec } from '../../codec/codec.js';
import { recordsOfPrincipal } from '../../session/principals.js';
import { type CommandSpec, now, UsageError } from '../command.js';
import { storeKey } from './store-key.js';

/** `tsession end --principal <user>`: ends every live session of one user ("log out everywhere"). */
export const end: CommandSpec = {
  name: 'end',
  args: [],
  description: 'end every live session of one user (session.setPrincipal), e.g. after a password change',
  options: {
    principal: { type: 'string', short: 'p', value: '<user>', description: 'the user whose sessions end (required)' },
    except: { type: 'string', value: '<id>', description: 'spare this session (store key or full client id)' },
  },
  readOnly: false,
  async run({ store }, { options, globals }) {
    const principal = options.principal;
    if (typeof principal !== 'string') throw new UsageError('end needs --principal <user>');
    const except = typeof options.except === 'string' ? storeKey(options.except) : undefined;
    const records = await recordsOfPrincipal(store, jsonCodec, principal, now());
    const ended: string[] = [];
    for (const { key } of records) {
      if (key !== except && (await store.destroy(key))) ended.push(key);
    }
    if (globals.json) console.log(JSON.stringify({ principal, ended }));
    else console.log(`ended ${ended.length} session${ended.length === 1 ? '' : 's'} of ${principal}`);
  },
};
