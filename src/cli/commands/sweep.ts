import { type CommandSpec, now } from '../command.js';
import { progress } from '../progress.js';

/** `tsession sweep`: removes expired sessions now. */
export const sweep: CommandSpec = {
  name: 'sweep',
  args: [],
  description: 'remove expired sessions now',
  options: {},
  readOnly: false,
  async run({ store }, { globals }) {
    const bar = progress('sweep', undefined, !globals.json);
    let removed = 0;
    const started = performance.now();
    const count = await store.sweep(now(), { onRemoved: (keys) => bar.update((removed += keys.length)) });
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      globals.json
        ? JSON.stringify({ removed: count, seconds })
        : `removed ${count} expired sessions in ${seconds.toFixed(2)} s`,
    );
  },
};
