/**
 * Redis Cluster hash slots, computed on the client: the slot of a key (CRC16 of its hash
 * tag, modulo 16384, as Redis Cluster defines it) and, for every slot, a short tag that
 * hashes to it. The expiry index keeps one sorted set per slot, named with that slot's
 * tag, so the commit script can update a session and its index entry in one slot.
 *
 * @module
 */

/** Slots of a Redis Cluster. */
export const SLOT_COUNT = 16_384;

/** CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster slots keys by. */
const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

const utf8 = new TextEncoder();

/**
 * The Cluster slot of `key`: when the key holds a `{` followed later by a `}` with at
 * least one byte between them, only those bytes are hashed (the hash tag); else the whole key.
 */
export function keySlot(key: string): number {
  const bytes = utf8.encode(key);
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % SLOT_COUNT;
  }
  return crc16(bytes) % SLOT_COUNT;
}

let tags: string[] | undefined;

/**
 * For every slot, the shortest base-36 counter string that hashes to it (computed once,
 * about 160,000 CRCs). Tags hold only `[0-9a-z]`, never a brace.
 */
export function slotTags(): readonly string[] {
  if (tags) return tags;
  const found: string[] = new Array(SLOT_COUNT);
  let missing = SLOT_COUNT;
  for (let i = 0; missing > 0; i++) {
    const tag = i.toString(36);
    const slot = crc16(utf8.encode(tag)) % SLOT_COUNT;
    if (found[slot] === undefined) {
      found[slot] = tag;
      missing--;
    }
  }
  tags = found;
  return found;
}
