import { LinkkitError, toLinkkitError } from '@linkkit/core'

/** Sends one batch; returns, per item in order, its result or the error it failed with. */
export type SendBatch<T, R> = (items: T[]) => Promise<Array<R | LinkkitError>>

export interface BatcherOptions<T, R> {
  /** Most items in one message (the protocol's limit). */
  maxItems: number
  /** How long the first item waits for others to join its batch. */
  windowMs: number
  send: SendBatch<T, R>
}

interface Waiting<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (error: LinkkitError) => void
}

/**
 * Gathers requests made within a short window into batches of at most `maxItems` (sub-device
 * login, topology add, registration, logout), so that many sub-devices connecting together cost
 * a few messages instead of one round trip each. A full batch leaves at once.
 */
export class Batcher<T, R = undefined> {
  readonly #o: BatcherOptions<T, R>
  #waiting: Array<Waiting<T, R>> = []
  #timer: NodeJS.Timeout | undefined
  #closed: LinkkitError | undefined

  constructor(options: BatcherOptions<T, R>) {
    this.#o = options
  }

  /** Resolves with the item's result once its batch was answered; rejects with its own error otherwise. */
  add(item: T): Promise<R> {
    if (this.#closed) return Promise.reject(this.#closed)
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject })
      if (this.#waiting.length >= this.#o.maxItems) this.flush()
      else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.flush(), this.#o.windowMs)
        this.#timer.unref()
      }
    })
  }

  /** Sends everything waiting now. */
  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const waiting = this.#waiting
    this.#waiting = []
    for (let i = 0; i < waiting.length; i += this.#o.maxItems)
      this.#send(waiting.slice(i, i + this.#o.maxItems))
  }

  /** Rejects everything waiting and refuses new items. */
  close(error: LinkkitError = new LinkkitError('ERR_CLOSED', 'closed')): void {
    this.#closed = error
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const w of this.#waiting.splice(0)) w.reject(error)
  }

  #send(chunk: Array<Waiting<T, R>>): void {
    this.#o.send(chunk.map((w) => w.item)).then(
      (results) => {
        chunk.forEach((w, i) => {
          const result = results[i]
          if (result instanceof LinkkitError) w.reject(result)
          else if (result === undefined && results.length <= i)
            w.reject(new LinkkitError('ERR_REPLY', 'the batch reply left this item out'))
          else w.resolve(result as R)
        })
      },
      (error: unknown) => {
        const failure = toLinkkitError(error, 'ERR_REPLY')
        for (const w of chunk) w.reject(failure)
      },
    )
  }
}
