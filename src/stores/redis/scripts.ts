/**
 * The Lua scripts of {@link RedisStore}. Each runs atomically on the server, so a
 * commit is checked and applied in one round trip with nothing in between.
 *
 * @module
 */
import { ConflictError } from '../../errors.js';
import type { SessionDelta } from '../types.js';
import { entryField } from './layout.js';

/** What the commit script replies. */
export type CommitReply = (string | number)[];

/** The name under which the commit script is defined on the ioredis client (EVALSHA, EVAL on NOSCRIPT). */
export const COMMIT_COMMAND = 'tsessionCommitV1';

/** Fixed ARGV slots of {@link COMMIT_LUA}; the writes follow, four slots each. */
export const COMMIT_FIXED_ARGS = 8;

/**
 * Lua: `holds(k, at)` is true when the hash `k` holds exactly the entries listed in ARGV
 * from `at`: a count ('' = no check: true), then per entry its field and version. Its
 * entry fields are all but `m` and `s` (see `layout.ts`), so one HLEN counts them.
 */
const HOLDS_LUA = `
local function holds(k, at)
  if ARGV[at] == '' then return true end
  local count = tonumber(ARGV[at])
  local fields = redis.call('HLEN', k) - redis.call('HEXISTS', k, 'm') - redis.call('HEXISTS', k, 's')
  if fields ~= count then return false end
  for i = 1, count do
    local stored = redis.call('HGET', k, ARGV[at + i * 2 - 1])
    if not stored or string.match(stored, '^(%d+):') ~= ARGV[at + i * 2] then return false end
  end
  return true
end
`;

/**
 * Applies one delta to `KEYS[1]`; when `KEYS[2]` is given (regenerate on standalone
 * Redis) it must be a live record holding exactly the entries the regenerate loaded
 * (`replacesEntries`, when given), and is deleted in the same script.
 *
 * ARGV: now, create (1/0), clear (1/0), touch (1/0), touch lastAccess, touch expiresAt
 * ('' = never), TTL in milliseconds ('' = none), number of writes, then per write:
 * field, expected version ('' = blind), op (`w` write, `d` delete), value; then the
 * replaced record's expected entries: their number ('' = no check), then per entry its
 * field and version.
 *
 * Replies `{'ok'}`, `{'exists'}`, `{'gone'}` or `{'version', i1, i2, ...}` (the 1-based
 * indexes of every write whose version check failed; none when the replaced record
 * changed). Every check runs before the first write, so a conflict changes nothing.
 */
export const COMMIT_LUA = `${HOLDS_LUA}
local key = KEYS[1]
local now = tonumber(ARGV[1])
local function meta(k)
  local m = redis.call('HGET', k, 'm')
  if not m then return nil end
  local c, l, x = string.match(m, '^1:([^:]*):([^:]*):([^:]*)$')
  if not c then return error('tsession: unknown record format in ' .. k) end
  return c, l, x
end
local function alive(x) return x == '' or now <= tonumber(x) end

local c, l, x = meta(key)
local live = c ~= nil and alive(x)
if ARGV[2] == '1' then
  if live then return {'exists'} end
elseif not live then
  return {'gone'}
end
local n = tonumber(ARGV[8])
local base = ${COMMIT_FIXED_ARGS + 1}
local old = KEYS[2]
if old then
  local oc, ol, ox = meta(old)
  if oc == nil or not alive(ox) then return {'gone'} end
  if not holds(old, base + n * 4) then return {'version'} end
end
local conflicts = {'version'}
for i = 0, n - 1 do
  local field = ARGV[base + i * 4]
  local current = 0
  if live then
    local stored = redis.call('HGET', key, field)
    if stored then current = tonumber(string.match(stored, '^(%d+):')) end
  end
  local expect = ARGV[base + i * 4 + 1]
  if expect ~= '' and tonumber(expect) ~= current then conflicts[#conflicts + 1] = i + 1 end
end
if #conflicts > 1 then return conflicts end

if not live then
  redis.call('DEL', key)
  c, l, x = ARGV[1], ARGV[5], ARGV[6]
elseif ARGV[3] == '1' then
  local doomed = {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'e:' then doomed[#doomed + 1] = field end
    if #doomed == 1000 then redis.call('HDEL', key, unpack(doomed)); doomed = {} end
  end
  if #doomed > 0 then redis.call('HDEL', key, unpack(doomed)) end
end
-- Versions come from the record's commit sequence, so a key deleted (or cleared) and
-- written again never gets back a version some request has already read.
local version = 0
if n > 0 then version = redis.call('HINCRBY', key, 's', 1) end
for i = 0, n - 1 do
  local field = ARGV[base + i * 4]
  if ARGV[base + i * 4 + 2] == 'd' then
    redis.call('HDEL', key, field)
  else
    redis.call('HSET', key, field, version .. ':' .. ARGV[base + i * 4 + 3])
  end
end

local expire = not live
if live and ARGV[4] == '1' then
  if tonumber(ARGV[5]) > tonumber(l) then l = ARGV[5] end
  if x == '' or ARGV[6] == '' or tonumber(ARGV[6]) > tonumber(x) then
    x = ARGV[6]
    expire = true
  end
end
redis.call('HSET', key, 'm', '1:' .. c .. ':' .. l .. ':' .. x)
if expire then
  if ARGV[7] == '' then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ARGV[7]) end
end
if old then redis.call('DEL', old) end
return {'ok'}
`;

/**
 * Deletes `KEYS[1]` when its metadata says it expired before `ARGV[1]` (now). Replies 1
 * when it deleted, else 0. Used by `sweep`, so a record touched meanwhile survives.
 */
export const SWEEP_LUA = `
local m = redis.call('HGET', KEYS[1], 'm')
if not m then return 0 end
local x = string.match(m, '^1:[^:]*:[^:]*:([^:]*)$')
if x == nil or x == '' or tonumber(x) >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * The second step of a regenerate on Cluster. When `KEYS[1]` is a live record at
 * `ARGV[1]` (now) but no longer holds exactly the entries the regenerate loaded (ARGV
 * from 2: their number, '' = no check, then per entry its field and version), it is left
 * as it is and the reply is 2. Otherwise `KEYS[1]` is deleted, replying 1 when it was a
 * live record, else 0.
 */
export const RETIRE_LUA = `${HOLDS_LUA}
local m = redis.call('HGET', KEYS[1], 'm')
local x = m and string.match(m, '^1:[^:]*:[^:]*:([^:]*)$')
local live = x and (x == '' or tonumber(ARGV[1]) <= tonumber(x))
if live and not holds(KEYS[1], 2) then return 2 end
redis.call('DEL', KEYS[1])
if live then return 1 end
return 0
`;

/** The commit script's ARGV for a delta (see `COMMIT_LUA`). */
export function commitArgs(delta: SessionDelta, now: number, graceMs: number): string[] {
  const { touch } = delta;
  const expiresAt = touch?.expiresAt ?? null;
  const ttl = expiresAt === null ? '' : String(Math.max(1, Math.ceil((expiresAt - now) * 1000 + graceMs)));
  const args = [
    String(now),
    delta.create ? '1' : '0',
    delta.clear ? '1' : '0',
    touch ? '1' : '0',
    touch ? String(touch.lastAccess) : '',
    expiresAt === null ? '' : String(expiresAt),
    ttl,
    String(delta.writes.length),
  ];
  for (const w of delta.writes) {
    args.push(entryField(w.pkg, w.key), w.expectVersion === undefined ? '' : String(w.expectVersion));
    args.push(w.value === undefined ? 'd' : 'w', w.value ?? '');
  }
  if (delta.replaces !== undefined) args.push(...replacedArgs(delta));
  return args;
}

/** The ARGV tail that lists a regenerate's `replacesEntries`: their number ('' = none given), then field and version of each. */
export function replacedArgs(delta: SessionDelta): string[] {
  const expected = delta.replacesEntries;
  if (expected === undefined) return [''];
  return [String(expected.length), ...expected.flatMap((e) => [entryField(e.pkg, e.key), String(e.version)])];
}

/** The ConflictError a non-ok reply of the commit script stands for. */
export function conflictOf(reply: CommitReply, delta: SessionDelta): ConflictError {
  const [reason, ...indexes] = reply;
  if (reason === 'exists' || reason === 'gone') return new ConflictError(reason);
  const keys = indexes.map((i) => delta.writes[Number(i) - 1]).map((w) => `${w?.pkg} › ${w?.key}`);
  return new ConflictError('version', keys);
}
