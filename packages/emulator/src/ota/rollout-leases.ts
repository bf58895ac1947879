import type { Logger } from 'pino'
import type { Leases } from '../state/store.js'

/** What the lease keeper needs of the rollouts. */
export interface LeaseKeeperHost {
  leases: Leases
  /** Ids of the rollouts not completed nor canceled, with the node that drives each. */
  open(): Array<{ id: string; node: string }>
  /** This node holds the lease of a rollout `node` drove when it was asked for. */
  held(id: string, node: string): void
  logger: Logger
  closed: AbortSignal
}

/** The lease of a rollout is named after it. */
export const leaseName = (rolloutId: string): string => `rollout:${rolloutId}`

/**
 * Scale-out: each rollout has a lease, held by the node that drives it. Every third of the lease's
 * time to live, this node asks for the lease of every open rollout: for those it drives that
 * renews it; for another node's, it is granted only once that node stopped renewing it (it died,
 * hung, or closed and freed it), and then this node takes the rollout over. So does every live
 * node: the first to ask wins.
 */
export class LeaseKeeper {
  readonly #h: LeaseKeeperHost
  readonly #timer: NodeJS.Timeout
  #busy = false

  constructor(host: LeaseKeeperHost) {
    this.#h = host
    this.#timer = setInterval(() => void this.check(), Math.max(100, Math.floor(host.leases.ttlMs / 3)))
    this.#timer.unref()
    host.closed.addEventListener('abort', () => clearInterval(this.#timer), { once: true })
  }

  /** Takes or renews the rollout's lease; true when this node holds it. */
  hold(rolloutId: string): Promise<boolean> {
    return this.#h.leases.hold(leaseName(rolloutId))
  }

  /** Frees the leases of these rollouts (the node is closing): others take them over at once. */
  release(rolloutIds: readonly string[]): void {
    for (const id of rolloutIds) {
      this.#h.leases
        .release(leaseName(id))
        .catch((error: unknown) => this.#h.logger.warn({ err: error, rolloutId: id }, 'lease not freed'))
    }
  }

  /** Asks for the lease of every open rollout now (each third of the lease's time, or when told one is free). */
  async check(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      for (const { id, node } of this.#h.open()) {
        if (this.#h.closed.aborted) return
        if (await this.hold(id)) this.#h.held(id, node)
      }
    } catch (error) {
      this.#h.logger.warn({ err: error }, 'rollout leases could not be renewed')
    } finally {
      this.#busy = false
    }
  }
}
