import { INTERNAL_PACKAGE } from '../record.js';
import type { PostgresNames } from './options.js';

/** SQLSTATE the commit function raises for a conflict; the message is the reason, the detail the keys. */
export const CONFLICT_STATE = 'TSCFL';
/** SQLSTATE the commit function raises when a size cap is passed; the message is what was counted, the detail `[size, limit]`. */
export const TOO_LARGE_STATE = 'TSBIG';
/** SQLSTATE the commit function raises when a `reject` limit is reached. */
export const LIMIT_STATE = 'TSLIM';
/**
 * How far past a limit the live records are counted. Over the limit by more (the limit
 * was lowered), each creation under `evict` removes this many at most, catching up
 * over the next creations.
 */
const LIMIT_SLACK = 64;

/**
 * The server-side function that applies one delta atomically, by the rules of
 * `stores/record.ts` (each step names the function it mirrors), in the one statement
 * `SELECT <table>_commit(key, delta, now, lock_timeout)`: one round trip, one implicit
 * transaction. It locks the record's row, checks every precondition (create/exists,
 * replaced record live and holding exactly `replacesEntries`, all expected versions, the limit) and raises on the first that fails,
 * so a conflict rolls everything back. A commit with entry writes takes the record's
 * `seq + 1`, stored back as `seq`, as the version of every entry it sets (see `StoredEntry.version`), so a key
 * deleted or cleared and written again never gets back an old version. It returns the
 * keys evicted under an `evict` limit.
 *
 * It also keeps the record's size (`bytes`, `packages`: `RecordMeasure`) and checks the
 * delta's caps against it, from the stored size and the entries written only, under the
 * row lock: concurrent commits cannot pass a cap together.
 *
 * The delta is JSON: `{ create, touch?: { lastAccess, expiresAt }, clear, writes: [{ pkg,
 * name, value (null deletes), expect (null: blind) }], replaces?, replacesEntries?: [{ pkg, name,
 * version }], limit?: { max, policy }, createdAt?, caps?: { maxBytes, maxPackages, maxKeysPerPackage } }`.
 */
export function commitFunctionSql(n: PostgresNames): string {
  const entryBytes = 'octet_length(e.pkg) + octet_length(e.name) + octet_length(e.value)';
  const writes = `jsonb_to_recordset(p_delta->'writes') AS w(pkg text, name text, value text, expect integer)`;
  return `${incrementFunctionSql(n)};
CREATE OR REPLACE FUNCTION ${n.commit}(p_key text, p_delta jsonb, p_now double precision, p_lock_timeout text)
RETURNS text[] LANGUAGE plpgsql AS $fn$
DECLARE
  v_create boolean := coalesce((p_delta->>'create')::boolean, false);
  v_touched boolean := jsonb_typeof(p_delta->'touch') IS NOT DISTINCT FROM 'object';
  v_access double precision := (p_delta->'touch'->>'lastAccess')::double precision;
  v_expiry double precision := (p_delta->'touch'->>'expiresAt')::double precision;
  v_replaces text := p_delta->>'replaces';
  v_limit jsonb := p_delta->'limit';
  v_caps jsonb := p_delta->'caps';
  v_clear boolean := coalesce((p_delta->>'clear')::boolean, false);
  v_created double precision := coalesce((p_delta->>'createdAt')::double precision, p_now);
  v_before_bytes bigint := 0;
  v_before_pkgs integer := 0;
  v_bytes bigint;
  v_pkgs integer;
  v_keys jsonb;
  v_big record;
  v_row ${n.sessions}%ROWTYPE;
  v_exists boolean;
  v_live boolean;
  v_conflicts jsonb;
  v_seq integer;
  v_version integer;
  v_excess bigint;
  v_evicted text[] := '{}';
  v_added jsonb;
BEGIN
  PERFORM set_config('lock_timeout', p_lock_timeout, true);

  IF v_replaces IS NOT NULL THEN
    PERFORM 1 FROM ${n.sessions} s
      WHERE s.key = v_replaces AND (s.expires_at IS NULL OR s.expires_at >= p_now) FOR UPDATE;
    IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = '${CONFLICT_STATE}', MESSAGE = 'gone'; END IF;
    -- The old record must hold exactly the entries the regenerate loaded: a write to it
    -- since then (serialized by the row lock just taken) would be deleted with it.
    IF jsonb_typeof(p_delta->'replacesEntries') = 'array' AND EXISTS (
        SELECT 1 FROM (SELECT e.pkg, e.name, e.version FROM ${n.entries} e WHERE e.key = v_replaces) AS cur
          FULL JOIN jsonb_to_recordset(p_delta->'replacesEntries') AS r(pkg text, name text, version integer)
          ON r.pkg = cur.pkg AND r.name = cur.name
        WHERE cur.version IS DISTINCT FROM r.version) THEN
      RAISE EXCEPTION USING ERRCODE = '${CONFLICT_STATE}', MESSAGE = 'version', DETAIL = '[]';
    END IF;
  END IF;

  SELECT * INTO v_row FROM ${n.sessions} s WHERE s.key = p_key FOR UPDATE;
  v_exists := FOUND;
  v_live := v_exists AND (v_row.expires_at IS NULL OR v_row.expires_at >= p_now);
  IF v_create AND v_live THEN
    RAISE EXCEPTION USING ERRCODE = '${CONFLICT_STATE}', MESSAGE = 'exists';
  END IF;
  IF NOT v_create AND NOT v_live THEN
    RAISE EXCEPTION USING ERRCODE = '${CONFLICT_STATE}', MESSAGE = 'gone';
  END IF;

  SELECT jsonb_agg(jsonb_build_array(w.pkg, w.name)) INTO v_conflicts
    FROM ${writes}
    LEFT JOIN ${n.entries} e ON v_live AND e.key = p_key AND e.pkg = w.pkg AND e.name = w.name
    WHERE w.expect IS NOT NULL AND coalesce(e.version, 0) <> w.expect;
  IF v_conflicts IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '${CONFLICT_STATE}', MESSAGE = 'version', DETAIL = v_conflicts::text;
  END IF;

  -- resolveIncrements: each write with an 'add' becomes a set of the integer stored (0 when
  -- absent, or when the commit creates or clears the record) plus the amount, under the row
  -- lock; every later step reads p_delta's writes as plain sets.
  IF jsonb_path_exists(p_delta->'writes', '$[*].add') THEN
    SELECT jsonb_agg(CASE WHEN NOT (w.x ? 'add') THEN w.x
                          ELSE (w.x - 'add') || jsonb_build_object('value', ${n.commit.replace(/"$/, '_add"')}(
                            w.x->>'pkg', w.x->>'name', CASE WHEN v_live AND NOT v_clear THEN e.value END, w.x->'add'))
                     END ORDER BY w.i)
      INTO v_added
      FROM jsonb_array_elements(p_delta->'writes') WITH ORDINALITY AS w(x, i)
      LEFT JOIN ${n.entries} e ON e.key = p_key AND e.pkg = w.x->>'pkg' AND e.name = w.x->>'name';
    p_delta := jsonb_set(p_delta, '{writes}', v_added);
  END IF;

  -- measureCommit: the size after the delta, from the stored size and the packages written.
  v_clear := v_clear AND v_live;
  IF v_live THEN v_before_bytes := v_row.bytes; v_before_pkgs := v_row.packages; END IF;
  v_bytes := v_before_bytes;
  v_pkgs := v_before_pkgs;
  -- A commit without writes or clear (a touch) leaves the size as it is: no query.
  IF jsonb_array_length(p_delta->'writes') > 0 OR v_clear THEN
  WITH w AS (SELECT * FROM ${writes}),
  cur AS (SELECT e.pkg, e.name, ${entryBytes} AS bytes FROM ${n.entries} e
           WHERE v_live AND e.key = p_key AND e.pkg IN (SELECT w.pkg FROM w)),
  per AS (SELECT p.pkg,
                 (SELECT count(*) FROM cur WHERE cur.pkg = p.pkg) AS before,
                 (CASE WHEN v_clear THEN 0 ELSE
                    (SELECT count(*) FROM cur WHERE cur.pkg = p.pkg)
                    - (SELECT count(*) FROM w JOIN cur ON cur.pkg = w.pkg AND cur.name = w.name WHERE w.pkg = p.pkg) END)
                 + (SELECT count(*) FROM w WHERE w.pkg = p.pkg AND w.value IS NOT NULL) AS after
            FROM (SELECT DISTINCT w.pkg FROM w) p)
  SELECT
    (CASE WHEN v_clear THEN 0 ELSE v_before_bytes
       - coalesce((SELECT sum(cur.bytes) FROM w JOIN cur ON cur.pkg = w.pkg AND cur.name = w.name), 0) END)
       + coalesce((SELECT sum(octet_length(w.pkg) + octet_length(w.name) + octet_length(w.value)) FROM w
                    WHERE w.value IS NOT NULL), 0),
    (CASE WHEN v_clear THEN 0 ELSE v_before_pkgs END)
       + (SELECT count(*) FROM per WHERE per.pkg <> '${INTERNAL_PACKAGE}'
            AND per.after > 0 AND (v_clear OR per.before = 0))
       - (SELECT count(*) FROM per WHERE per.pkg <> '${INTERNAL_PACKAGE}'
            AND per.after = 0 AND NOT v_clear AND per.before > 0),
    (SELECT jsonb_agg(jsonb_build_array(per.pkg, per.before, per.after)) FROM per)
    INTO v_bytes, v_pkgs, v_keys;
  END IF;
  -- checkCaps / checkCap: refused when over the cap AND grown.
  IF v_caps IS NOT NULL THEN
    SELECT * INTO v_big FROM (
      SELECT 0 AS rank, 'bytes' AS what, v_bytes AS size, (v_caps->>'maxBytes')::bigint AS cap, v_before_bytes AS before
      UNION ALL SELECT 1, 'packages', v_pkgs, (v_caps->>'maxPackages')::bigint, v_before_pkgs
      UNION ALL SELECT 2, 'keys in package ' || (k->>0), (k->>2)::bigint, (v_caps->>'maxKeysPerPackage')::bigint, (k->>1)::bigint
        FROM jsonb_array_elements(coalesce(v_keys, '[]'::jsonb)) AS k
    ) AS c WHERE c.size > c.cap AND c.size > c.before ORDER BY c.rank LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = '${TOO_LARGE_STATE}', MESSAGE = v_big.what,
        DETAIL = jsonb_build_array(v_big.size, v_big.cap)::text;
    END IF;
  END IF;

  -- nextSeq: the commit's number, the version of every entry it sets. A new record (or one created
  -- over an expired record) counts from 0; a commit without entry writes keeps the sequence.
  v_seq := CASE WHEN v_live THEN v_row.seq ELSE 0 END;
  v_version := v_seq + CASE WHEN jsonb_array_length(p_delta->'writes') > 0 THEN 1 ELSE 0 END;

  IF v_create AND v_limit IS NOT NULL THEN
    -- Creations under a limit take turns, so two of them cannot both see the last free place.
    -- Counting stops a little past the limit: the cost is min(live, max) rows, not the table.
    PERFORM pg_advisory_xact_lock(${n.lockId});
    SELECT count(*) - (CASE WHEN v_replaces IS NULL THEN 0 ELSE 1 END) - (v_limit->>'max')::bigint + 1
      INTO v_excess FROM (
        SELECT 1 FROM ${n.sessions} s WHERE s.expires_at IS NULL OR s.expires_at >= p_now
        LIMIT (v_limit->>'max')::bigint + ${LIMIT_SLACK}) AS live;
    IF v_excess > 0 THEN
      IF v_limit->>'policy' = 'reject' THEN
        RAISE EXCEPTION USING ERRCODE = '${LIMIT_STATE}', MESSAGE = v_limit->>'max';
      END IF;
      WITH victims AS (
        SELECT s.key FROM ${n.sessions} s
          WHERE s.expires_at >= p_now AND s.key <> p_key AND s.key IS DISTINCT FROM v_replaces
          ORDER BY s.expires_at LIMIT v_excess FOR UPDATE SKIP LOCKED
      ), gone AS (
        DELETE FROM ${n.sessions} s USING victims WHERE s.key = victims.key RETURNING s.key
      )
      SELECT coalesce(array_agg(gone.key), '{}') INTO v_evicted FROM gone;
    END IF;
  END IF;

  IF v_create AND v_exists THEN
    -- An expired record under this key: start afresh, its old data never comes back.
    DELETE FROM ${n.entries} e WHERE e.key = p_key;
    -- nextRecord: a create starts from its touch, and createdAt from the delta or now.
    UPDATE ${n.sessions} s SET created_at = v_created, last_access = coalesce(v_access, p_now), expires_at = v_expiry,
        seq = v_version, bytes = v_bytes, packages = v_pkgs
      WHERE s.key = p_key;
  ELSIF v_create THEN
    INSERT INTO ${n.sessions} (key, created_at, last_access, expires_at, seq, bytes, packages)
      VALUES (p_key, v_created, coalesce(v_access, p_now), v_expiry, v_version, v_bytes, v_pkgs)
      ON CONFLICT (key) DO NOTHING;
    IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = '${CONFLICT_STATE}', MESSAGE = 'exists'; END IF;
  ELSIF v_touched OR v_version <> v_seq OR v_clear THEN
    -- nextRecord / laterExpiry: two concurrent touches keep the later last-access time and expiry (SPEC 30).
    UPDATE ${n.sessions} s SET
        bytes = v_bytes, packages = v_pkgs,
        last_access = CASE WHEN v_touched THEN greatest(s.last_access, v_access) ELSE s.last_access END,
        expires_at = CASE WHEN NOT v_touched THEN s.expires_at
                          WHEN s.expires_at IS NULL OR v_expiry IS NULL THEN v_expiry
                          ELSE greatest(s.expires_at, v_expiry) END,
        seq = v_version
      WHERE s.key = p_key;
  END IF;

  IF v_clear THEN
    -- Entries written again are overwritten below (with the new version); the rest go.
    DELETE FROM ${n.entries} e WHERE e.key = p_key AND NOT EXISTS (
      SELECT 1 FROM ${writes} WHERE w.value IS NOT NULL AND w.pkg = e.pkg AND w.name = e.name);
  END IF;
  DELETE FROM ${n.entries} e USING ${writes}
    WHERE w.value IS NULL AND e.key = p_key AND e.pkg = w.pkg AND e.name = w.name;
  INSERT INTO ${n.entries} AS e (key, pkg, name, value, version)
    SELECT p_key, w.pkg, w.name, w.value, v_version FROM ${writes} WHERE w.value IS NOT NULL
    ON CONFLICT (key, pkg, name) DO UPDATE SET value = excluded.value, version = excluded.version;

  IF v_replaces IS NOT NULL THEN
    DELETE FROM ${n.sessions} s WHERE s.key = v_replaces;
  END IF;
  RETURN v_evicted;
END
$fn$`;
}

/** SQLSTATE the increment function raises for a value it cannot add to; the message says why, the detail names the entry. */
export const INCREMENT_STATE = 'TSINC';

/**
 * `<table>_commit_add(pkg, name, stored, add)`: the value an increment writes, by
 * `resolveIncrements` in `stores/record.ts`: the stored integer (0 when null) plus the
 * amount, in decimal; raises {@link INCREMENT_STATE} when the stored value is not an
 * integer as JSON writes it or the sum passes ±2^53-1.
 */
function incrementFunctionSql(n: PostgresNames): string {
  const max = Number.MAX_SAFE_INTEGER;
  return `
CREATE OR REPLACE FUNCTION ${n.commit.replace(/"$/, '_add"')}(p_pkg text, p_name text, p_stored text, p_add jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  v_sum numeric;
BEGIN
  IF jsonb_typeof(p_add) <> 'number' OR (p_add::text)::numeric <> trunc((p_add::text)::numeric)
     OR abs((p_add::text)::numeric) > ${max} THEN
    RAISE EXCEPTION USING ERRCODE = '${INCREMENT_STATE}', MESSAGE = 'the amount is not a safe integer',
      DETAIL = jsonb_build_array(p_pkg, p_name)::text;
  END IF;
  IF p_stored IS NOT NULL AND (p_stored !~ '^(0|-?[1-9][0-9]*)$' OR length(p_stored) > 17
     OR abs(p_stored::numeric) > ${max}) THEN
    RAISE EXCEPTION USING ERRCODE = '${INCREMENT_STATE}', MESSAGE = 'the stored value is not an integer',
      DETAIL = jsonb_build_array(p_pkg, p_name)::text;
  END IF;
  v_sum := coalesce(p_stored::numeric, 0) + (p_add::text)::numeric;
  IF abs(v_sum) > ${max} THEN
    RAISE EXCEPTION USING ERRCODE = '${INCREMENT_STATE}', MESSAGE = 'the sum would pass ±2^53-1',
      DETAIL = jsonb_build_array(p_pkg, p_name)::text;
  END IF;
  RETURN v_sum::text;
END
$fn$`;
}
