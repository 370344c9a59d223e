/** The ceiling: node:http with no session at all; /read returns a counter, /write increments it. */
import { serve, text } from './harness.js';

let counter = 0;

serve((req, res) => {
  if (req.url === '/read') return text(res, 200, String(counter));
  if (req.url === '/write') return text(res, 200, String(++counter));
  text(res, 404, 'not found');
});
