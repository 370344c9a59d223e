import type { CommandSpec } from '../command.js';
import type { SchemaOutcome } from '../store-url.js';

const SAID: Record<SchemaOutcome, string> = {
  created: 'created the schema',
  found: 'found the schema; it is up to date',
  none: 'this store needs no schema',
};

/** `tsession migrate`: creates the store's schema, or brings it up to date, and says which. */
export const migrate: CommandSpec = {
  name: 'migrate',
  args: [],
  description: 'create the store schema, or bring it up to date (PostgreSQL; SQLite makes its own, Redis has none)',
  options: {},
  readOnly: false,
  async run(opened, { globals }) {
    const schema = await opened.migrate();
    console.log(globals.json ? JSON.stringify({ schema }) : SAID[schema]);
  },
};
