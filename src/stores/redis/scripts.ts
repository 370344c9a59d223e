/**
 * The Lua scripts of {@link RedisStore}. Each runs atomically on the server, so a
 * commit is checked and applied in one round trip with nothing in between.
 *
 * @module
 */
import { ConflictError, type SessionStateError, SessionTooLargeError } from '../../errors.js';
import { INTERNAL_PACKAGE, incrementError, PRINCIPAL_KEY } from '../record.js';
import type { EntryWrite, SessionDelta } from '../types.js';
import { entryField } from './layout.js';

/** What the commit script replies. */
export type CommitReply = (string | number)[];

/** The name under which the commit script is defined on the ioredis client (EVALSHA, EVAL on NOSCRIPT). */
export const COMMIT_COMMAND = 'tsessionCommitV1';
export const RETIRE_COMMAND = 'tsessionRetireV1';
export const DESTROY_COMMAND = 'tsessionDestroyV1';
export const SWEEP_COMMAND = 'tsessionSweepV1';
export const PRINCIPAL_INDEX_COMMAND = 'tsessionPrincipalIndexV1';
export const PRINCIPAL_PRUNE_COMMAND = 'tsessionPrincipalPruneV1';

/** Fixed ARGV slots of {@link COMMIT_LUA}; the writes follow, {@link WRITE_ARGS} slots each. */
export const COMMIT_FIXED_ARGS = 12;
/** ARGV slots per write: field, expected version, op, value, package id. */
const WRITE_ARGS = 5;

/**
 * Lua: `holds(k, at)` is true when the hash `k` holds exactly the entries listed in ARGV
 * from `at`: a count ('' = no check: true), then per entry its field and version.
 * Mirrors `holdsExactly` in `stores/record.ts`.
 */
const HOLDS_LUA = `
local function holds(k, at)
  if ARGV[at] == '' then return true end
  local count = tonumber(ARGV[at])
  local fields = 0
  for _, field in ipairs(redis.call('HKEYS', k)) do
    if string.sub(field, 1, 2) == 'e:' then fields = fields + 1 end
  end
  if fields ~= count then return false end
  for i = 1, count do
    local stored = redis.call('HGET', k, ARGV[at + i * 2 - 1])
    if not stored or string.match(stored, '^(%d+):') ~= ARGV[at + i * 2] then return false end
  end
  return true
end
`;

/**
 * Lua: `member(k)` is the client key inside a record's Redis key `<prefix>{<clientKey>}`
 * (the prefix holds no brace): the member naming the record in its expiry index.
 */
const MEMBER_LUA = `
local function member(k) return string.match(k, '^[^{]*{(.*)}$') end
`;

/**
 * Applies one delta to `KEYS[1]` by the rules of `stores/record.ts`, each step naming the
 * function it mirrors, and keeps the record's member in its expiry index `KEYS[2]` (a
 * sorted set in the record's slot, score = expiresAt; no member for "never"). When
 * `KEYS[3]` is given (regenerate on standalone Redis) it must be a live record holding
 * exactly the entries the regenerate loaded (`replacesEntries`, when given), and is
 * deleted in the same script, with its member of `KEYS[2]` (one index on standalone).
 *
 * ARGV: now, create (1/0), clear (1/0), touch (1/0), touch lastAccess, touch expiresAt
 * ('' = never), TTL in milliseconds ('' = none), number of writes, createdAt ('' = now),
 * then the caps maxBytes, maxPackages, maxKeysPerPackage ('' = no caps); then per write
 * (folded by `lastWritePerEntry`): field, expected version ('' = blind), op (`w` write,
 * `d` delete, `a` add: the value is the amount), value, package id; then the replaced record's expected entries: their
 * number ('' = no check), then per entry its field and version.
 *
 * Replies `{'ok'}`, `{'exists'}`, `{'gone'}`, `{'version', i1, i2, ...}` (the 1-based
 * indexes of every write whose version check failed; none when the replaced record
 * changed), `{'toolarge', what, size, limit}` or `{'increment', i, 'not' | 'sum'}` (write
 * i adds to a value that is not an integer, or would pass ±2^53-1). An `{'ok'}` names
 * the record's principal second when it has one and its expiry moved. Every check runs before the first write,
 * so a refused commit changes nothing. Lua strings are bytes, so sizes are UTF-8 bytes.
 */
export const COMMIT_LUA = `${HOLDS_LUA}
local key = KEYS[1]
local index = KEYS[2]
local now = tonumber(ARGV[1])
${MEMBER_LUA}
local function meta(k)
  local m = redis.call('HGET', k, 'm')
  if not m then return nil end
  local c, l, x = string.match(m, '^1:([^:]*):([^:]*):([^:]*)$')
  if not c then return error('tsession: unknown record format in ' .. k) end
  return c, l, x
end
-- isLive
local function alive(x) return x == '' or now <= tonumber(x) end

-- checkPreconditions: create / exists / gone
local c, l, x = meta(key)
local live = c ~= nil and alive(x)
if ARGV[2] == '1' then
  if live then return {'exists'} end
elseif not live then
  return {'gone'}
end
local n = tonumber(ARGV[8])
local base = ${COMMIT_FIXED_ARGS + 1}
local W = ${WRITE_ARGS}
-- checkPreconditions: the replaced record is live and holds what the regenerate loaded
local old = KEYS[3]
if old then
  local oc, ol, ox = meta(old)
  if oc == nil or not alive(ox) then return {'gone'} end
  if not holds(old, base + n * W) then return {'version'} end
end
-- checkPreconditions: exact entry versions, every conflict named
local stored = {}
local conflicts = {'version'}
for i = 0, n - 1 do
  local field = ARGV[base + i * W]
  local current = 0
  if live then
    stored[i] = redis.call('HGET', key, field)
    if stored[i] then current = tonumber(string.match(stored[i], '^(%d+):')) end
  end
  local expect = ARGV[base + i * W + 1]
  if expect ~= '' and tonumber(expect) ~= current then conflicts[#conflicts + 1] = i + 1 end
end
if #conflicts > 1 then return conflicts end

-- resolveIncrements: an add ('a') becomes a write ('w') of the integer stored (0 when
-- absent, or when the commit creates or clears the record) plus the amount; every later
-- step reads the op and value from op[i] and val[i]
local op, val = {}, {}
for i = 0, n - 1 do
  op[i], val[i] = ARGV[base + i * W + 2], ARGV[base + i * W + 3]
  if op[i] == 'a' then
    local current = 0
    if stored[i] and ARGV[3] ~= '1' then
      local text = string.sub(stored[i], string.find(stored[i], ':', 1, true) + 1)
      if text ~= '0' and not string.match(text, '^%-?[1-9]%d*$') then return {'increment', i + 1, 'not'} end
      current = tonumber(text)
      if math.abs(current) > ${Number.MAX_SAFE_INTEGER} then return {'increment', i + 1, 'not'} end
    end
    local sum = current + tonumber(val[i])
    if math.abs(sum) > ${Number.MAX_SAFE_INTEGER} then return {'increment', i + 1, 'sum'} end
    op[i], val[i] = 'w', string.format('%.0f', sum)
  end
end

-- measureCommit: the size after the delta, from the stored size and the entries written
local clear = live and ARGV[3] == '1'
local beforeBytes, beforePkgs = 0, 0
-- a touch (no writes, no clear) leaves the size as it is: nothing to read
if live and (n > 0 or clear) then
  beforeBytes = tonumber(redis.call('HGET', key, 'b') or '0')
  beforePkgs = tonumber(redis.call('HGET', key, 'p') or '0')
end
local keysBefore, keysAfter, touched = {}, {}, {}
for i = 0, n - 1 do
  local pkg = ARGV[base + i * W + 4]
  if keysBefore[pkg] == nil then
    local held = 0
    if live then held = tonumber(redis.call('HGET', key, 'k:' .. pkg) or '0') end
    keysBefore[pkg] = held
    if clear then keysAfter[pkg] = 0 else keysAfter[pkg] = held end
    touched[#touched + 1] = pkg
  end
end
local bytes = beforeBytes
if clear then bytes = 0 end
for i = 0, n - 1 do
  local field = ARGV[base + i * W]
  local pkg = ARGV[base + i * W + 4]
  -- an entry field is 'e:' .. pkg .. NUL .. key: its length less 3 is the package id and key
  if stored[i] and not clear then
    bytes = bytes - (#field - 3) - (#stored[i] - string.find(stored[i], ':', 1, true))
    keysAfter[pkg] = keysAfter[pkg] - 1
  end
  if op[i] == 'w' then
    bytes = bytes + (#field - 3) + #val[i]
    keysAfter[pkg] = keysAfter[pkg] + 1
  end
end
local pkgs = beforePkgs
if clear then pkgs = 0 end
for _, pkg in ipairs(touched) do
  if pkg ~= '${INTERNAL_PACKAGE}' then
    local held = (not clear) and keysBefore[pkg] > 0
    if not held and keysAfter[pkg] > 0 then pkgs = pkgs + 1 end
    if held and keysAfter[pkg] == 0 then pkgs = pkgs - 1 end
  end
end
-- checkCaps / checkCap: over the cap AND grown
local function over(what, after, max, before)
  if max == '' or after <= tonumber(max) or after <= before then return nil end
  return {'toolarge', what, after, tonumber(max)}
end
local big = over('bytes', bytes, ARGV[10], beforeBytes) or over('packages', pkgs, ARGV[11], beforePkgs)
if big then return big end
for _, pkg in ipairs(touched) do
  big = over('keys in package ' .. pkg, keysAfter[pkg], ARGV[12], keysBefore[pkg])
  if big then return big end
end

if not live then
  redis.call('DEL', key)
  -- nextRecord: a create starts from its touch, and createdAt from the delta or now
  c, l, x = ARGV[1], ARGV[5], ARGV[6]
  if ARGV[9] ~= '' then c = ARGV[9] end
elseif clear then
  local doomed = {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local kind = string.sub(field, 1, 2)
    if kind == 'e:' or kind == 'k:' then doomed[#doomed + 1] = field end
    if #doomed == 1000 then redis.call('HDEL', key, unpack(doomed)); doomed = {} end
  end
  if #doomed > 0 then redis.call('HDEL', key, unpack(doomed)) end
end
-- nextSeq: versions come from the record's commit sequence, so a key deleted (or
-- cleared) and written again never gets back a version some request has already read.
local version = 0
if n > 0 then version = redis.call('HINCRBY', key, 's', 1) end
for i = 0, n - 1 do
  local field = ARGV[base + i * W]
  if op[i] == 'd' then
    redis.call('HDEL', key, field)
  else
    redis.call('HSET', key, field, version .. ':' .. val[i])
  end
end
if n > 0 or clear then
  redis.call('HSET', key, 'b', bytes, 'p', pkgs)
  for _, pkg in ipairs(touched) do
    if keysAfter[pkg] > 0 then redis.call('HSET', key, 'k:' .. pkg, keysAfter[pkg])
    else redis.call('HDEL', key, 'k:' .. pkg) end
  end
end

-- nextRecord / laterExpiry: an update keeps the later last access and expiry
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
  if ARGV[7] == '' then
    redis.call('PERSIST', key)
    redis.call('ZREM', index, member(key))
  else
    redis.call('PEXPIRE', key, ARGV[7])
    redis.call('ZADD', index, x, member(key))
  end
end
if old then
  redis.call('DEL', old)
  redis.call('ZREM', index, member(old))
end
-- sessions by user: a record holding a principal whose expiry moved names it, so the
-- store extends the principal's index set (PRINCIPAL_INDEX_LUA) to outlive the record
if expire then
  local p = redis.call('HGET', key, '${entryField(INTERNAL_PACKAGE, PRINCIPAL_KEY)}')
  if p then return {'ok', string.sub(p, string.find(p, ':', 1, true) + 1)} end
end
return {'ok'}
`;

/**
 * Sessions by user: adds the client key ARGV[1] to the principal's index `KEYS[1]` (a
 * sorted set per principal, a key of its own so that on Cluster it lives in one slot),
 * scored with the commit's `now` (ARGV[3]), and makes the set live at least ARGV[2] more
 * milliseconds ('' = for ever). The set may hold keys of records that ended or moved to
 * another principal: readers check each record (`findByPrincipal`) and remove those
 * (`PRINCIPAL_PRUNE_LUA`).
 */
export const PRINCIPAL_INDEX_LUA = `
local fresh = redis.call('EXISTS', KEYS[1]) == 0
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
  return 1
end
local ttl = redis.call('PTTL', KEYS[1])
if fresh or (ttl >= 0 and ttl < tonumber(ARGV[2])) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

/**
 * Removes from the principal's index `KEYS[1]` each member named in ARGV from 2 whose score
 * (when it was added) is below ARGV[1]. A member added since (a commit writing the
 * principal adds its record before committing) has a newer score and stays, so a reader
 * that saw a record before that commit landed never unlists it.
 */
export const PRINCIPAL_PRUNE_LUA = `
local removed = 0
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < tonumber(ARGV[1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
`;

/**
 * One batch of a sweep, in one slot: `KEYS[1]` is the expiry index, `KEYS[2..]` the
 * records its members `ARGV[2..]` name, which it listed with scores below `ARGV[1]` (now).
 * For each, atomically: a member no longer below now (a commit moved it, or another sweep
 * removed it) is left alone; a record that is live after all (its metadata says so) gets
 * its score repaired; otherwise the record is deleted if Redis has not already reclaimed
 * it by its TTL, and the member removed. Replies the members removed: each expired
 * session is reported by exactly one sweep, whether its hash was still there or not.
 */
export const SWEEP_LUA = `
local now = tonumber(ARGV[1])
local removed = {}
for i = 2, #KEYS do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < now then
    local m = redis.call('HGET', KEYS[i], 'm')
    local x = m and string.match(m, '^1:[^:]*:[^:]*:([^:]*)$')
    if m and not x then
      -- a record of a format this version does not know: not ours to judge
      redis.call('ZREM', KEYS[1], ARGV[i])
    elseif x == '' then
      redis.call('ZREM', KEYS[1], ARGV[i])
    elseif x and tonumber(x) >= now then
      redis.call('ZADD', KEYS[1], x, ARGV[i])
    else
      redis.call('DEL', KEYS[i])
      redis.call('ZREM', KEYS[1], ARGV[i])
      removed[#removed + 1] = ARGV[i]
    end
  end
end
return removed
`;

/**
 * Deletes the record `KEYS[1]` and its member of the expiry index `KEYS[2]`, so a later
 * sweep does not report an ended session as expired. Replies 1 when there was a record.
 */
export const DESTROY_LUA = `${MEMBER_LUA}
redis.call('ZREM', KEYS[2], member(KEYS[1]))
return redis.call('DEL', KEYS[1])
`;

/**
 * The second step of a regenerate on Cluster. When `KEYS[1]` is a live record at
 * `ARGV[1]` (now) but no longer holds exactly the entries the regenerate loaded (ARGV
 * from 2: their number, '' = no check, then per entry its field and version), it is left
 * as it is and the reply is 2. Otherwise `KEYS[1]` is deleted with its member of the
 * expiry index `KEYS[2]`, replying 1 when it was a live record, else 0.
 */
export const RETIRE_LUA = `${HOLDS_LUA}${MEMBER_LUA}
local m = redis.call('HGET', KEYS[1], 'm')
local x = m and string.match(m, '^1:[^:]*:[^:]*:([^:]*)$')
local live = x and (x == '' or tonumber(ARGV[1]) <= tonumber(x))
if live and not holds(KEYS[1], 2) then return 2 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], member(KEYS[1]))
if live then return 1 end
return 0
`;

/** A script as `defineCommand` takes it: one without `numberOfKeys` takes the count as its first argument. */
export interface ScriptDefinition {
  readonly lua: string;
  readonly numberOfKeys?: number;
}

/** The store's Lua scripts by command name (defined on the client by `RedisStore`). */
export const SCRIPTS: Readonly<Record<string, ScriptDefinition>> = {
  [COMMIT_COMMAND]: { lua: COMMIT_LUA },
  [RETIRE_COMMAND]: { lua: RETIRE_LUA, numberOfKeys: 2 },
  [DESTROY_COMMAND]: { lua: DESTROY_LUA, numberOfKeys: 2 },
  [SWEEP_COMMAND]: { lua: SWEEP_LUA },
  [PRINCIPAL_INDEX_COMMAND]: { lua: PRINCIPAL_INDEX_LUA, numberOfKeys: 1 },
  [PRINCIPAL_PRUNE_COMMAND]: { lua: PRINCIPAL_PRUNE_LUA, numberOfKeys: 1 },
};

/**
 * The commit script's ARGV for a delta (see `COMMIT_LUA`). `writes` are the delta's
 * writes folded by `lastWritePerEntry`, as the script's size accounting needs.
 */
export function commitArgs(delta: SessionDelta, writes: readonly EntryWrite[], now: number, graceMs: number): string[] {
  const { touch, caps } = delta;
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
    String(writes.length),
    delta.createdAt === undefined ? '' : String(delta.createdAt),
    caps ? String(caps.maxBytes) : '',
    caps ? String(caps.maxPackages) : '',
    caps ? String(caps.maxKeysPerPackage) : '',
  ];
  for (const w of writes) {
    args.push(entryField(w.pkg, w.key), w.expectVersion === undefined ? '' : String(w.expectVersion));
    if (w.add !== undefined) args.push('a', String(w.add), w.pkg);
    else args.push(w.value === undefined ? 'd' : 'w', w.value ?? '', w.pkg);
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

/** The error a non-ok reply of the commit script stands for; `writes` as given to {@link commitArgs}. */
export function refusalOf(
  reply: CommitReply,
  writes: readonly EntryWrite[],
): ConflictError | SessionTooLargeError | SessionStateError {
  const [reason, ...indexes] = reply;
  if (reason === 'increment') {
    const [index, why] = indexes;
    const write = writes[Number(index) - 1] as EntryWrite;
    return incrementError(write, why === 'sum' ? 'the sum would pass ±2^53-1' : 'the stored value is not an integer');
  }
  if (reason === 'exists' || reason === 'gone') return new ConflictError(reason);
  if (reason === 'toolarge') {
    const [what, size, limit] = indexes;
    return new SessionTooLargeError(Number(size), Number(limit), String(what));
  }
  const keys = indexes.map((i) => writes[Number(i) - 1]).map((w) => `${w?.pkg} › ${w?.key}`);
  return new ConflictError('version', keys);
}
