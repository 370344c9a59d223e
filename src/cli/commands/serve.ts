import { serveAdmin } from '../admin-server.js';
import { type CommandSpec, countOption } from '../command.js';

/** `tsession serve`: the admin page for the store, behind HTTP basic auth. */
export const serve: CommandSpec = {
  name: 'serve',
  args: [],
  description: 'serve the admin page for the store (HTTP basic auth, user "admin")',
  options: {
    port: { type: 'string', short: 'p', value: '<port>', description: 'port to listen on', default: '8080' },
    host: { type: 'string', value: '<host>', description: 'address to listen on', default: '127.0.0.1' },
    password: {
      type: 'string',
      value: '<password>',
      description: 'the admin password (default: a random one, printed)',
      env: 'TSESSION_ADMIN_PASSWORD',
    },
  },
  readOnly: false,
  keepsStore: true,
  async run({ store }, input) {
    const password = input.options.password as string | undefined;
    const admin = await serveAdmin(store, {
      port: countOption(input, 'port'),
      host: input.options.host as string,
      password,
    });
    console.log(`tsession admin on ${admin.url} (user "admin", password ${admin.passwordShown})`);
  },
};
