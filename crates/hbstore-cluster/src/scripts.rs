//! The server-side steps: one Lua script per step, each touching the keys
//! of one group only (one slot), so Redis runs each atomically. The store
//! (`store.rs`) composes them; the argument that the composition keeps the
//! contract's invariant is in the crate's documentation.
//!
//! Every script takes a group's three keys (`m`arker, `e`ntries, `n`ames)
//! as `KEYS[1..3]`; those that act on a group's child first check that the
//! group is alive (its marker holds a live token, or it is the root), and
//! answer `nogroup` when it is not: the caller then resolves the path
//! step by step. Replies are arrays whose first item says what happened.

/// Reads one child: `{ok}` (absent), `{ok, entry}`, or `{nogroup}`. An
/// entry's presence proves the group alive, since a group's marker is only
/// killed once its entries are gone.
pub const GET: &str = r#"
local entry = redis.call('HGET', KEYS[2], ARGV[2])
if entry then return {'ok', entry} end
if ARGV[1] == '1' or redis.call('HEXISTS', KEYS[1], 't') == 1 then return {'ok'} end
return {'nogroup'}
"#;

/// Puts a child, if what is there allows it. `ARGV[3]` is the operation:
/// `v` (a value) or `l` (a link) replace a value or a link (answering
/// `{done, previous}`; `{same}` when the same link is there), `g` (a group
/// with token `ARGV[4]`) goes only where nothing is (`{done}`). Anything
/// else there is answered with `{tag, entry}` and nothing changes.
pub const PUT: &str = r#"
if ARGV[1] ~= '1' and redis.call('HEXISTS', KEYS[1], 't') == 0 then return {'nogroup'} end
local name, op = ARGV[2], ARGV[3]
local cur = redis.call('HGET', KEYS[2], name)
local new = op .. ARGV[4]
if cur then
  local tag = string.sub(cur, 1, 1)
  if op == 'l' and cur == new then return {'same'} end
  if op ~= 'g' and (tag == 'v' or tag == 'l') then
    redis.call('HSET', KEYS[2], name, new)
    return {'done', cur}
  end
  return {tag, cur}
end
redis.call('HSET', KEYS[2], name, new)
redis.call('ZADD', KEYS[3], 0, name)
return {'done'}
"#;

/// Brings a group's own marker to life with token `ARGV[1]`, the token its
/// parent's entry holds: `ok`, or `stale` when that incarnation is already
/// dead or another one is alive (the caller reads the parent again).
pub const MARK: &str = r#"
if redis.call('HEXISTS', KEYS[1], 'x' .. ARGV[1]) == 1 then return 'stale' end
local t = redis.call('HGET', KEYS[1], 't')
if t == ARGV[1] then return 'ok' end
if t then return 'stale' end
redis.call('HSET', KEYS[1], 't', ARGV[1])
return 'ok'
"#;

/// Decides deletion attempt `ARGV[2]` of incarnation `ARGV[1]`, once: the
/// group dies (`deleted`) if it has no child, otherwise the attempt is
/// recorded as refused (`refused`). Asked again, it gives the same answer,
/// so any client can finish a deletion another one started.
pub const KILL: &str = r#"
if redis.call('HEXISTS', KEYS[1], 'x' .. ARGV[1]) == 1 then return 'deleted' end
if redis.call('HEXISTS', KEYS[1], 'r' .. ARGV[2]) == 1 then return 'refused' end
local t = redis.call('HGET', KEYS[1], 't')
if t and t ~= ARGV[1] then return 'stale' end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[1], 'r' .. ARGV[2], '1')
  return 'refused'
end
redis.call('HDEL', KEYS[1], 't')
redis.call('HSET', KEYS[1], 'x' .. ARGV[1], '1')
redis.call('DEL', KEYS[3])
return 'deleted'
"#;

/// Settles a decided deletion in the parent (`KEYS` are the parent's):
/// the child entry `ARGV[1]`, if it is still `ARGV[2]` (that attempt), is
/// removed (`ARGV[3]` = `deleted`) or turned back into the group with
/// token `ARGV[4]` (`refused`). Answers 1 if it changed anything.
pub const SETTLE: &str = r#"
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == 'deleted' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('HSET', KEYS[2], ARGV[1], 'g' .. ARGV[4])
end
return 1
"#;

/// Removes child `ARGV[2]`: a value or a link goes at once (`{removed,
/// entry}`); a group is marked as being deleted by attempt `ARGV[3]`
/// (`{deleting, entry}`) for KILL to decide. With `ARGV[4]` not empty, only
/// if the entry is exactly that (`{changed, entry}` otherwise). `{absent}`,
/// `{busy, entry}` (another deletion under way) or `{nogroup}`.
pub const REMOVE: &str = r#"
if ARGV[1] ~= '1' and redis.call('HEXISTS', KEYS[1], 't') == 0 then return {'nogroup'} end
local cur = redis.call('HGET', KEYS[2], ARGV[2])
if not cur then return {'absent'} end
if ARGV[4] ~= '' and cur ~= ARGV[4] then return {'changed', cur} end
local tag = string.sub(cur, 1, 1)
if tag == 'g' then
  local d = 'd' .. string.sub(cur, 2) .. ':' .. ARGV[3]
  redis.call('HSET', KEYS[2], ARGV[2], d)
  return {'deleting', d}
end
if tag == 'd' then return {'busy', cur} end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return {'removed', cur}
"#;

/// Puts child `ARGV[2]` back as `ARGV[4]` (removes it when empty) if it is
/// still `ARGV[3]` (absent when empty): a batch's undo, which must not
/// overwrite what another client wrote since. Answers 1 if it changed it.
pub const RESTORE: &str = r#"
local cur = redis.call('HGET', KEYS[2], ARGV[2]) or ''
if cur ~= ARGV[3] then return 0 end
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
  return 1
end
if ARGV[1] ~= '1' and redis.call('HEXISTS', KEYS[1], 't') == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
if cur == '' then redis.call('ZADD', KEYS[3], 0, ARGV[2]) end
return 1
"#;

/// A page of children: names from `ARGV[2]` to `ARGV[3]` (ZRANGEBYLEX
/// bounds), at most `ARGV[4]`, descending when `ARGV[5]` is `1`; each with
/// its entry, a value longer than `ARGV[6]` bytes given as `s` + its size.
/// `{ok, name, entry, name, entry, ...}` or `{nogroup}`. A whole group
/// that fits the page comes from one `HGETALL`, not in order.
pub const PAGE: &str = r#"
local inline = tonumber(ARGV[6])
local alive = function()
  return ARGV[1] == '1' or redis.call('HEXISTS', KEYS[1], 't') == 1
end
if ARGV[2] == '-' and ARGV[3] == '+' and ARGV[5] ~= '1' then
  local n = redis.call('HLEN', KEYS[2])
  -- Children prove the group alive; only an empty one is asked.
  if n == 0 and not alive() then return {'nogroup'} end
  if n <= tonumber(ARGV[4]) then
    -- The whole group fits the page: one HGETALL, in hash order (the
    -- caller sorts by name).
    local all = redis.call('HGETALL', KEYS[2])
    for i = 2, #all, 2 do
      local e = all[i]
      if string.byte(e, 1) == 118 and #e - 1 > inline then all[i] = 's' .. tostring(#e - 1) end
    end
    table.insert(all, 1, 'ok')
    return all
  end
elseif not alive() then
  return {'nogroup'}
end
local names
if ARGV[5] == '1' then
  names = redis.call('ZREVRANGEBYLEX', KEYS[3], ARGV[2], ARGV[3], 'LIMIT', 0, ARGV[4])
else
  names = redis.call('ZRANGEBYLEX', KEYS[3], ARGV[2], ARGV[3], 'LIMIT', 0, ARGV[4])
end
local out = {'ok'}
if #names == 0 then return out end
local entries = redis.call('HMGET', KEYS[2], unpack(names))
for i, name in ipairs(names) do
  local e = entries[i]
  if e then
    if string.byte(e, 1) == 118 and #e - 1 > inline then e = 's' .. tostring(#e - 1) end
    out[#out + 1] = name
    out[#out + 1] = e
  end
end
return out
"#;

/// Puts entries `ARGV[4], ARGV[6], ...` (encoded: `v` + bytes, or `l` +
/// target) at children `ARGV[3], ARGV[5], ...` of a group, all or none:
/// each replaces a value or a link (the same link there is kept).
/// `{done, previous...}` (each child's previous entry, `''` where there
/// was none), or `{blocked, i, entry}` when child `i` (from 1) is a group,
/// and nothing changes. With a token in `ARGV[2]`, a
/// group whose marker is not yet live is marked with it first (as MARK
/// does: `{stale}` when that incarnation is dead), so a new group's creator
/// marks it and fills it in one step.
pub const PUTS: &str = r#"
if ARGV[1] ~= '1' and not redis.call('HGET', KEYS[1], 't') then
  local token = ARGV[2]
  if token == '' then return {'nogroup'} end
  if redis.call('HEXISTS', KEYS[1], 'x' .. token) == 1 then return {'stale'} end
  redis.call('HSET', KEYS[1], 't', token)
end
local n = (#ARGV - 2) / 2
local before = {}
for i = 1, n do
  local name, new = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  local cur = before[name]
  if cur == nil then cur = redis.call('HGET', KEYS[2], name) end
  if cur then
    local tag = string.byte(cur, 1)
    if tag ~= 118 and tag ~= 108 then return {'blocked', tostring(i), cur} end
  end
  before[name] = new
end
local out = {'done'}
for i = 1, n do
  local name, new = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
  local cur = redis.call('HGET', KEYS[2], name)
  if cur ~= new then
    redis.call('HSET', KEYS[2], name, new)
    if not cur then redis.call('ZADD', KEYS[3], 0, name) end
  end
  out[#out + 1] = cur or ''
end
return out
"#;

/// Every script, for loading them all at once (in `Script`'s order).
pub const ALL: [&str; 9] = [GET, PUT, MARK, KILL, SETTLE, REMOVE, RESTORE, PAGE, PUTS];
