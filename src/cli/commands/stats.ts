import { type CommandSpec, countOption, now } from '../command.js';
import { storeStats } from '../inspect.js';

/** `tsession stats`: counts and sizes over the live sessions. */
export const stats: CommandSpec = {
  name: 'stats',
  args: [],
  description: 'live sessions, per-package counts and sizes, sessions expiring soon',
  options: {
    soon: { type: 'string', value: '<seconds>', description: 'what "expiring soon" means', default: '300' },
  },
  readOnly: true,
  async run({ store }, input) {
    const figures = await storeStats(store, now(), countOption(input, 'soon'));
    if (input.globals.json) return console.log(JSON.stringify(figures));
    console.log(`live sessions     ${figures.live}`);
    console.log(`expiring in ${figures.soonSeconds}s  ${figures.expiringSoon}`);
    console.log(`data bytes        ${figures.bytes}`);
    for (const [pkg, p] of Object.entries(figures.packages)) {
      console.log(`  ${pkg}: ${p.sessions} sessions, ${p.keys} keys, ${p.bytes} bytes`);
    }
  },
};
