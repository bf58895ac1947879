import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * Lua scripts of the Redis store. Each change is stored and published in one script, so the order in
 * which Redis runs them is the order in which every node hears of them (one channel per platform).
 * A message is a JSON header, a newline, and the record's JSON (nothing for a removal).
 */

/**
 * Table writes. A stored record is `seq\nguard\njson`; `seq` comes from one counter per platform.
 * KEYS: [1] the table's hash, [2] the counter.
 * ARGV: [1] field, [2] op `set` | `del` | `claim`, [3] json, [4] new guard ('' keeps the stored one),
 * [5] required guard, [6] '1' when [5] applies, [7] channel, [8] node, [9] table name.
 * A write that loses (guard mismatch, or a claim of a key another value holds) changes nothing and
 * publishes the stored record flagged `l`, so the writer applies it; returns 1 when it was written.
 */
export const WRITE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local guard, json = '', nil
if cur then
  local a = string.find(cur, '\\n', 1, true)
  local b = string.find(cur, '\\n', a + 1, true)
  guard = string.sub(cur, a + 1, b - 1)
  json = string.sub(cur, b + 1)
end
local op = ARGV[2]
local seq = redis.call('INCR', KEYS[2])
if (ARGV[6] == '1' and guard ~= ARGV[5]) or (op == 'claim' and json ~= nil and json ~= ARGV[3]) then
  local held = 'del'
  if json then held = 'set' end
  local header = cjson.encode({s = seq, n = ARGV[8], t = ARGV[9], f = ARGV[1], o = held, l = 1})
  redis.call('PUBLISH', ARGV[7], header .. '\\n' .. (json or ''))
  return 0
end
if op == 'del' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('PUBLISH', ARGV[7], cjson.encode({s = seq, n = ARGV[8], t = ARGV[9], f = ARGV[1], o = 'del'}) .. '\\n')
  return 1
end
local g = ARGV[4]
if g == '' then g = guard end
redis.call('HSET', KEYS[1], ARGV[1], seq .. '\\n' .. g .. '\\n' .. ARGV[3])
redis.call('PUBLISH', ARGV[7], cjson.encode({s = seq, n = ARGV[8], t = ARGV[9], f = ARGV[1], o = 'set'}) .. '\\n' .. ARGV[3])
return 1
`

/**
 * Log appends. Entries are `seq\njson`; the list keeps its last ARGV[2] entries and the log's index
 * set names the keys that have entries.
 * KEYS: [1] the list, [2] the counter, [3] the index. ARGV: [1] json, [2] max, [3] channel,
 * [4] node, [5] log name, [6] key.
 */
export const APPEND_SCRIPT = `
local seq = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], seq .. '\\n' .. ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('PUBLISH', ARGV[3], cjson.encode({s = seq, n = ARGV[4], g = ARGV[5], f = ARGV[6]}) .. '\\n' .. ARGV[1])
return seq
`

/**
 * Takes or renews a lease: KEYS [1] the lease. ARGV: [1] node, [2] time to live, ms. Returns 1 when
 * the node holds it now (it was free, expired, or the node's own), else 0.
 */
export const HOLD_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`

/** Frees a lease the node holds: KEYS [1] the lease. ARGV: [1] node. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`

/** A script and its SHA-1, run by `EVALSHA` (then `EVAL` when the server does not know it yet). */
export interface Script {
  sha: string
  lua: string
}

export function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

export async function runScript(cmd: Redis, s: Script, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await cmd.evalsha(s.sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
    return await cmd.eval(s.lua, keys.length, ...keys, ...args)
  }
}
