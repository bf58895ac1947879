import { EventEmitter } from 'eventemitter3'
import { describe, expect, it } from 'vitest'
import { LinkkitError } from '../../src/errors.js'
import { emitError, forwardErrors, LINKKIT_WARNING, LISTENER_THREW, safeEmit } from '../../src/safe-emit.js'

// The one mechanism every linkkit emitter uses for `error` events and for listeners that throw
// (issue 10, finding 9). The device-level behaviour is tested in packages/sdk/test/security.

interface Events {
  error: (error: LinkkitError) => void
  tick: (n: number) => void
}
class Widget extends EventEmitter<Events> {}

type Warning = Error & { code?: string }

function warnings() {
  const seen: Warning[] = []
  const listener = (warning: Warning) => {
    if (warning.name === LINKKIT_WARNING && warning.message.startsWith('Widget')) seen.push(warning)
  }
  process.on('warning', listener)
  return { seen, [Symbol.dispose]: () => process.off('warning', listener) }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))
const offline = () => new LinkkitError('ERR_OFFLINE_QUEUE_FULL')

describe('safeEmit / emitError / forwardErrors', () => {
  it('warns once per emitter and code when nobody listens, and not at all when someone does', async () => {
    using w = warnings()
    const [a, b] = [new Widget(), new Widget()]
    emitError(a, offline())
    emitError(a, offline())
    emitError(a, new LinkkitError('ERR_CLOSED'))
    safeEmit<Events, 'error'>(b, undefined, 'error', offline())
    const heard: LinkkitError[] = []
    const c = new Widget().on('error', (e) => heard.push(e))
    emitError(c, offline())
    await flush()
    expect(w.seen.map((x) => x.code)).toEqual([
      'ERR_OFFLINE_QUEUE_FULL',
      'ERR_CLOSED',
      'ERR_OFFLINE_QUEUE_FULL',
    ])
    expect(heard).toHaveLength(1)
  })

  it('catches a throwing listener, returns what it threw and warns once per event', async () => {
    using w = warnings()
    const widget = new Widget()
    const bug = new Error('bug')
    widget.on('tick', () => {
      throw bug
    })
    expect(safeEmit<Events, 'tick'>(widget, undefined, 'tick', 1)).toBe(bug)
    expect(safeEmit<Events, 'tick'>(widget, undefined, 'tick', 2)).toBe(bug)
    await flush()
    expect(w.seen.map((x) => [x.code, x.message])).toEqual([
      [LISTENER_THREW, "Widget: a 'tick' listener threw: bug"],
    ])
  })

  it('forwardErrors reports an error as unheard only when no listener of the source heard it', async () => {
    using w = warnings()
    const [child, parent] = [new Widget(), new Widget()]
    forwardErrors(child, parent)
    const onChild: LinkkitError[] = []
    const listen = (e: LinkkitError) => onChild.push(e)
    child.on('error', listen)
    child.emit('error', offline())
    await flush()
    expect(w.seen).toEqual([])
    child.off('error', listen)
    child.emit('error', offline())
    await flush()
    expect(w.seen.map((x) => x.code)).toEqual(['ERR_OFFLINE_QUEUE_FULL'])
    expect(onChild).toHaveLength(1)
  })
})
