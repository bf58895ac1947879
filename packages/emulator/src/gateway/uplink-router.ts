import { sameIdentity, topicIdentity, WireCodes } from '@linkkit/core'
import type { Logger } from 'pino'
import { type Answer, fail, parseUplink, replyPayload } from '../alink/envelope.js'
import type { DeviceRegistry } from '../registry.js'
import type { EmulatorPublishOptions, UplinkContext, UplinkHandler } from '../types.js'
import { GatewayCodes } from './codes.js'
import type { GatewayHandler } from './types.js'

export interface GatewayRouterDeps {
  registry: DeviceRegistry
  logger: Logger
  onUplink(filter: string, handler: UplinkHandler): () => void
  publish(topic: string, payload: string | Uint8Array, options?: EmulatorPublishOptions): Promise<void>
}

/** `/sys/{pk}/{dn}/thing/topo/add` → `thing.topo.add`; `/ext/session/{pk}/{dn}/combine/login` → `combine.login`. */
function methodOf(topic: string): string {
  const levels = topic.split('/')
  return levels[1] === 'ext' ? levels.slice(5).join('.') : levels.slice(4).join('.')
}

/**
 * Mounts gateway request handlers on the uplink bus: reads the envelope, runs the handler for a
 * gateway publishing on its own topics, and answers on `_reply` unless `sys.ack` is 0. A handler
 * that throws is answered 500 and logged.
 */
export function mountGatewayRoutes(
  deps: GatewayRouterDeps,
  routes: ReadonlyArray<readonly [filter: string, handler: GatewayHandler]>,
): Array<() => void> {
  const reply = async (topic: string, id: string, answer: Answer) => {
    try {
      await deps.publish(`${topic}_reply`, replyPayload(id, methodOf(topic), answer), { qos: 0 })
    } catch (error) {
      deps.logger.warn({ err: error, topic }, 'gateway reply could not be published')
    }
  }
  const handle = async (ctx: UplinkContext, handler: GatewayHandler) => {
    const owner = topicIdentity(ctx.topic)
    if (owner === undefined || !sameIdentity(owner, ctx)) return
    const uplink = parseUplink(ctx.payload)
    if (!uplink.ok) {
      if (uplink.id !== undefined) await reply(ctx.topic, uplink.id, fail(uplink.code, uplink.message))
      return
    }
    let answer: Answer
    try {
      const clientParams = deps.registry.get(ctx.productKey, ctx.deviceName)?.clientParams ?? {}
      const gateway = { productKey: ctx.productKey, deviceName: ctx.deviceName }
      answer = await handler({ gateway, topic: ctx.topic, params: uplink.params, clientParams })
    } catch (error) {
      deps.logger.error({ err: error, topic: ctx.topic }, 'gateway handler failed')
      answer = fail(WireCodes.unknown)
    }
    if (answer.code !== GatewayCodes.success)
      deps.logger.info(
        { topic: ctx.topic, code: answer.code, reason: answer.message },
        'gateway request refused',
      )
    if (uplink.ack) await reply(ctx.topic, uplink.id, answer)
  }
  return routes.map(([filter, handler]) => deps.onUplink(filter, (ctx) => handle(ctx, handler)))
}
