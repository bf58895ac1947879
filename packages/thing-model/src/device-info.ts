import { Topics } from '@linkkit/core'
import type { ThingContext } from './context.js'
import type { DesiredValues } from './events.js'
import { isRecord } from './inbound.js'
import { invalidArgument, type PostOptions, send } from './uplink.js'

/** Options of requests that always wait for a reply (desired, tags). */
export type QueryOptions = Omit<PostOptions, 'ack'>

/** A device tag (docs/protocol.md §2.3 "Tags (deviceinfo)"). */
export interface DeviceTag {
  /** The tag's key. */
  attrKey: string
  /** The tag's value. */
  attrValue: string
}

function identifiers(ids: unknown, what: string): string[] {
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    !ids.every((id) => typeof id === 'string' && id.length > 0)
  ) {
    throw invalidArgument(`${what} must be a non-empty array of non-empty strings`)
  }
  return [...ids]
}

/**
 * `thing.property.desired.get`: the desired values of `ids` (properties with none are omitted).
 * Emits `desired` with them.
 */
export async function getDesired(
  ctx: ThingContext,
  ids: string[],
  options?: QueryOptions,
): Promise<DesiredValues> {
  const params = identifiers(ids, 'desired property identifiers')
  const topic = Topics.sys(ctx.connection, 'thing/property/desired/get')
  const reply = await send(ctx, topic, 'thing.property.desired.get', params, options)
  const values = isRecord(reply.data) ? (reply.data as DesiredValues) : {}
  ctx.emit('desired', values)
  return values
}

/**
 * `thing.property.desired.delete`: identifier → `{ version? }`; a version deletes only when it is
 * still the current one, `{}` deletes unconditionally.
 */
export async function deleteDesired(
  ctx: ThingContext,
  versions: Record<string, { version?: number }>,
  options?: QueryOptions,
): Promise<void> {
  if (!isRecord(versions) || Object.keys(versions).length === 0)
    throw invalidArgument('desired deletions must be a non-empty object')
  for (const [id, guard] of Object.entries(versions)) {
    if (!isRecord(guard) || (guard.version !== undefined && !Number.isSafeInteger(guard.version))) {
      throw invalidArgument(`desired deletion of "${id}" must be {} or { version: <integer> }`)
    }
  }
  const topic = Topics.sys(ctx.connection, 'thing/property/desired/delete')
  await send(ctx, topic, 'thing.property.desired.delete', versions, options)
}

/** `thing.deviceinfo.update`: adds or changes tags without clearing the others. */
export async function updateTags(
  ctx: ThingContext,
  tags: DeviceTag[],
  options?: QueryOptions,
): Promise<void> {
  if (!Array.isArray(tags) || tags.length === 0) throw invalidArgument('tags must be a non-empty array')
  const params = tags.map((tag) => {
    if (
      !isRecord(tag) ||
      typeof tag.attrKey !== 'string' ||
      tag.attrKey === '' ||
      typeof tag.attrValue !== 'string'
    ) {
      throw invalidArgument('each tag must be { attrKey: string, attrValue: string }')
    }
    return { attrKey: tag.attrKey, attrValue: tag.attrValue }
  })
  await send(
    ctx,
    Topics.sys(ctx.connection, 'thing/deviceinfo/update'),
    'thing.deviceinfo.update',
    params,
    options,
  )
}

/** `thing.deviceinfo.delete`: removes the tags with these keys. */
export async function deleteTags(ctx: ThingContext, keys: string[], options?: QueryOptions): Promise<void> {
  const params = identifiers(keys, 'tag keys').map((attrKey) => ({ attrKey }))
  await send(
    ctx,
    Topics.sys(ctx.connection, 'thing/deviceinfo/delete'),
    'thing.deviceinfo.delete',
    params,
    options,
  )
}
