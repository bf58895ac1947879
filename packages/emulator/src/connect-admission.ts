import type { AuthErrorCode, AuthenticateError, Client, PreConnectHandler } from 'aedes'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import { type RefusalCode, ReturnCode, verifyConnect } from './auth.js'
import { ClientIdOwners } from './client-ids.js'
import { RegisterCode, registerDevice } from './registration.js'
import type { DeviceRegistry } from './registry.js'
import { DeviceSession, RegisterSession } from './session.js'
import type { StateStore } from './state/store.js'
import type { DeviceIdentity, EmulatorEvents } from './types.js'

export interface AdmissionOptions {
  registry: DeviceRegistry
  events: EventEmitter<EmulatorEvents>
  logger: Logger
  minKeepaliveSeconds: number
  /** Where client ids are shared with the other nodes (scale-out). */
  store: StateStore
  /** A device's connection was let in. */
  online: (session: DeviceSession) => void
  /** A dynamic-registration connection was let in (it gets its secret, then is closed). */
  registering: (session: RegisterSession) => void
}

type AuthOutcome = AuthenticateError | undefined

/**
 * Whether a CONNECT gets in (docs/protocol.md §1): the signature and keepalive checked by
 * `verifyConnect`, one clientId per device identity (`ClientIdOwners`, shared in scale-out), MQTT
 * dynamic registration answered, and every refusal logged and emitted as `connect:refused`.
 */
export class ConnectAdmission {
  readonly #o: AdmissionOptions
  readonly #keepalive = new WeakMap<Client, number>()
  readonly #clientIds: ClientIdOwners

  constructor(options: AdmissionOptions) {
    this.#o = options
    this.#clientIds = new ClientIdOwners(
      ({ productKey, deviceName }) => options.registry.get(productKey, deviceName) !== undefined,
      options.store.table('clientIds'),
    )
  }

  /** aedes' `preConnect`: notes the keepalive the CONNECT asks for. */
  readonly preConnect: PreConnectHandler = (client, packet, callback) => {
    this.#keepalive.set(client, packet.keepalive ?? 0)
    callback(null, true)
  }

  /** aedes' `authenticate`, for a decision that may wait on the state store. */
  authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const settle = (error: AuthOutcome) => (error === undefined ? done(null, true) : done(error, false))
    const outcome = this.#authenticate(client, username, password)
    if (!(outcome instanceof Promise)) {
      settle(outcome)
      return
    }
    outcome.then(settle, (error: unknown) => {
      this.#o.logger.warn({ err: error, clientId: client.id }, 'CONNECT could not be decided')
      settle(
        this.#refuse(client, username, ReturnCode.ServerUnavailable, 'the platform state is unavailable'),
      )
    })
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): AuthOutcome | Promise<AuthOutcome> {
    const keepaliveSeconds = this.#keepalive.get(client) ?? 0
    const verdict = verifyConnect(
      { clientId: client.id, username, password, keepaliveSeconds },
      this.#o.registry,
      this.#o.minKeepaliveSeconds,
    )
    if (verdict.kind === 'refused') return this.#refuse(client, username, verdict.returnCode, verdict.reason)
    // aedes keys sessions by the raw clientId: one held by another device must not reach aedes, which
    // would hand that device's session over (its queued messages, with clean=false) or wipe it.
    if (!this.#clientIds.mayUse(client.id, verdict.identity)) {
      return this.#refuse(
        client,
        username,
        ReturnCode.IdentifierRejected,
        'clientId is held by another device',
      )
    }
    if (verdict.kind === 'register') {
      const { identity, random, password: sign, signMethod } = verdict
      const outcome = registerDevice(this.#o.registry, { ...identity, random, sign, signMethod })
      if (!outcome.ok) {
        const code =
          outcome.code === RegisterCode.BadSign ? ReturnCode.BadUsernameOrPassword : ReturnCode.NotAuthorized
        return this.#refuse(client, username, code, `registration refused: ${outcome.message}`)
      }
      return this.#claimed(client, username, identity, () =>
        this.#o.registering(new RegisterSession(client, identity, outcome.deviceSecret)),
      )
    }
    const { identity, clientParams } = verdict
    const token = this.#o.registry.newToken()
    return this.#claimed(
      client,
      username,
      identity,
      () => this.#o.online(new DeviceSession(client, identity, clientParams, token)),
      token,
    )
  }

  /**
   * Claims the clientId for the device and runs `accept`; refuses with return code 2 when another
   * device holds it. With scale-out the claim is decided by the state store, after which the
   * connection may already be gone: then nothing is accepted.
   */
  #claimed(
    client: Client,
    username: string | undefined,
    identity: DeviceIdentity,
    accept: () => void,
    token = this.#o.registry.newToken(),
  ): AuthOutcome | Promise<AuthOutcome> {
    const decide = (claimed: boolean): AuthOutcome => {
      if (!claimed) {
        return this.#refuse(
          client,
          username,
          ReturnCode.IdentifierRejected,
          'clientId is held by another device',
        )
      }
      if (client.conn.destroyed) return new Error('the connection closed during CONNECT') as AuthenticateError
      accept()
      return undefined
    }
    const claimed = this.#clientIds.claim(client, identity, token)
    return typeof claimed === 'boolean' ? decide(claimed) : claimed.then(decide)
  }

  #refuse(client: Client, username: string | undefined, returnCode: RefusalCode, reason: string) {
    this.#o.logger.info({ clientId: client.id, username, returnCode, reason }, 'CONNECT refused')
    this.#o.events.emit('connect:refused', { clientId: client.id, username, returnCode, reason })
    const error: AuthenticateError = Object.assign(new Error(reason), {
      returnCode: returnCode as AuthErrorCode,
    })
    return error
  }
}
