import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exportLine } from '../../transfer/index.js';
import { type CommandSpec, now } from '../command.js';
import { progress } from '../progress.js';

/** `tsession export`: every live session as JSON Lines, streamed. */
export const exportCommand: CommandSpec = {
  name: 'export',
  args: [],
  description: 'write every live session as JSON Lines',
  options: { out: { type: 'string', short: 'o', value: '<file>', description: 'write to a file instead of stdout' } },
  readOnly: true,
  async run({ store }, { options, globals }) {
    const out = options.out as string | undefined;
    const total = await store.count?.(now());
    const bar = progress('export', total, !globals.json && out !== undefined);
    let exported = 0;
    async function* lines() {
      for await (const session of store.scan(now())) {
        yield `${exportLine(session)}\n`;
        bar.update(++exported);
      }
    }
    await pipeline(Readable.from(lines()), out ? createWriteStream(out) : process.stdout, { end: out !== undefined });
    bar.stop();
    if (out) console.log(globals.json ? JSON.stringify({ exported }) : `exported ${exported} sessions to ${out}`);
  },
};
