import type { MqttClient } from 'mqtt'
import type { Connection } from './connection.js'
import type { ConnectionEvents, ConnectionState } from './connection-types.js'
import type { LinkkitError } from './errors.js'
import type { LinkHooks, MqttLink } from './mqtt-link.js'
import { emitError } from './safe-emit.js'
import type { CarrierSendOptions, SessionCarrier, SessionCore, SessionLink } from './session-core.js'
import type { BrokerSubscriptions, Qos } from './subscriptions.js'

const LINK: Readonly<Record<ConnectionState, SessionLink>> = {
  idle: 'down',
  connecting: 'pending',
  connected: 'up',
  reconnecting: 'pending',
  closed: 'down',
  failed: 'down',
}

function noop(): void {}

/** Logs and emits an error no promise could report. */
function report(connection: Connection, error: LinkkitError, topic?: string): void {
  connection.logger.warn({ code: error.code, topic }, error.message)
  emitError(connection, error, connection.logger)
}

/**
 * How a `Connection`'s session reaches its MQTT link: the `SessionCarrier` of its `SessionCore`.
 * Shared methods on one small object rather than an object literal of closures (with a getter,
 * which V8 keeps in dictionary mode): a fleet holds one per device. The connection sets `link`,
 * `broker` and `session` once they exist; `connected` is kept by the link's state hook.
 */
export class SessionWiring implements SessionCarrier {
  connected = false
  link!: MqttLink
  broker!: BrokerSubscriptions
  session!: SessionCore

  constructor(readonly connection: Connection) {}

  send(
    topic: string,
    payload: string | Uint8Array,
    qos: Qos,
    _options: CarrierSendOptions,
    resolve: () => void,
    reject: (error: LinkkitError) => void,
  ): void {
    this.link.send(topic, payload, qos, resolve, reject)
  }

  ensureReplyRoute(replyTopic: string): Promise<void> | undefined {
    return this.broker.covers(replyTopic) ? undefined : this.connection.subscribe(replyTopic).then(noop)
  }

  refusal(topic: string): LinkkitError {
    return this.link.refusal(topic)
  }

  report(error: LinkkitError, topic?: string): void {
    report(this.connection, error, topic)
  }
}

/** What a `Connection`'s MQTT link tells it, as shared methods (see `SessionWiring`). */
export class LinkWiring implements LinkHooks {
  constructor(readonly session: SessionWiring) {}

  state(state: ConnectionState): void {
    const s = this.session
    s.connected = state === 'connected'
    if (state === 'connected') s.session.up()
    else s.session.link = LINK[state]
  }

  restore(client: MqttClient): Promise<void> {
    return this.session.broker.restore(client)
  }

  connected(info: Parameters<ConnectionEvents['connected']>[0]): void {
    this.session.connection.emit('connected', info)
  }

  disconnected(info: Parameters<ConnectionEvents['disconnected']>[0]): void {
    this.session.connection.emit('disconnected', info)
  }

  reconnecting(info: Parameters<ConnectionEvents['reconnecting']>[0]): void {
    this.session.connection.emit('reconnecting', info)
  }

  message(topic: string, payload: Buffer): void {
    this.session.connection.emit('message', topic, payload)
    this.session.session.deliver(topic, payload)
  }

  report(error: LinkkitError, topic?: string): void {
    report(this.session.connection, error, topic)
  }

  rejectAll(error: LinkkitError): void {
    this.session.session.rejectAll(error)
  }
}
