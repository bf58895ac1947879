import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, isLinkkitError, LinkkitError } from '../src/errors.js'

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
const documented = [...doc.matchAll(/^## `([A-Z0-9_]+)`$/gm)].map((m) => m[1])

describe('error registry', () => {
  it('documents every code exactly once in docs/errors.md, and nothing else', () => {
    expect([...documented].sort()).toEqual(Object.keys(ErrorCodes).sort())
    expect(new Set(documented).size).toBe(documented.length)
  })

  it('gives every code a stable name of the ERR_ form', () => {
    for (const code of Object.keys(ErrorCodes)) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/)
  })

  it('carries code, reply code and cause', () => {
    const cause = new Error('boom')
    const err = new LinkkitError('ERR_REPLY', undefined, { replyCode: 6304, cause, topic: '/a' })
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('ERR_REPLY')
    expect(err.replyCode).toBe(6304)
    expect(err.cause).toBe(cause)
    expect(err.message).toBe(ErrorCodes.ERR_REPLY)
    expect(isLinkkitError(err, 'ERR_REPLY')).toBe(true)
    expect(isLinkkitError(err, 'ERR_CLOSED')).toBe(false)
  })
})
