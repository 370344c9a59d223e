import type { CommandSpec } from '../command.js';
import { remove } from './delete.js';
import { end } from './end.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { list } from './list.js';
import { migrate } from './migrate.js';
import { serve } from './serve.js';
import { show } from './show.js';
import { stats } from './stats.js';
import { sweep } from './sweep.js';

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  list,
  show,
  remove,
  end,
  sweep,
  stats,
  exportCommand,
  importCommand,
  migrate,
  serve,
];
