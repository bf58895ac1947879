import { LinkkitError } from '@linkkit/core'

/** Where a response body sits in the image. */
export interface BodyPlan {
  /** File offset of the body's first byte: 0 for a 200, the range start for a 206. */
  bodyStart: number
  /** Body length the server announced, when it did. */
  announced: number | undefined
}

export type ResponseVerdict = { ok: true; plan: BodyPlan } | { ok: false; error: LinkkitError }

/**
 * Judges a response head before any body byte is used. Throws for answers a retry cannot fix (4xx,
 * a file of another size than the offer), returns `ok: false` for ones worth a resume (5xx, a
 * malformed or misplaced 206). A 200 to a ranged request is accepted: the caller skips the bytes it
 * already holds, because the 3.x SDK shows that a 200 full body after a resume would otherwise
 * corrupt the image (docs/protocol.md §3.6).
 */
export function checkResponse(
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  askedStart: number,
  size: number,
  where: string,
): ResponseVerdict {
  const length = parseLength(headers['content-length'])
  if (status === 200) {
    if (length !== undefined && length !== size) throw sizeMismatch(where, size, length, status)
    return { ok: true, plan: { bodyStart: 0, announced: length } }
  }
  if (status === 206) return checkPartial(headers, length, askedStart, size, where)
  // We never ask beyond the offer size, so an unsatisfiable range means the server's file is shorter.
  if (status === 416) throw sizeMismatch(where, size, undefined, status)
  const error = new LinkkitError(
    'ERR_DOWNLOAD_HTTP_STATUS',
    `firmware server ${where} answered HTTP ${status}`,
    {
      httpStatus: status,
    },
  )
  if (status >= 500 && status <= 599) return { ok: false, error }
  throw error
}

function checkPartial(
  headers: Readonly<Record<string, string | undefined>>,
  length: number | undefined,
  askedStart: number,
  size: number,
  where: string,
): ResponseVerdict {
  const header = headers['content-range'] ?? ''
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim())
  const retry = (why: string): ResponseVerdict => ({
    ok: false,
    error: new LinkkitError('ERR_DOWNLOAD_FAILED', `firmware server ${where} sent a bad 206: ${why}`, {
      httpStatus: 206,
      details: { contentRange: header, askedStart },
    }),
  })
  if (match === null) return retry(`Content-Range "${header}" is not "bytes a-b/size"`)
  const [, first = '', last = '', total = ''] = match
  if (total !== '*' && Number(total) !== size) throw sizeMismatch(where, size, Number(total), 206)
  const start = Number(first)
  const end = Number(last)
  if (start !== askedStart) return retry(`range starts at ${start}, ${askedStart} was asked`)
  if (end < start || end >= size) return retry(`range ${start}-${end} does not fit the image`)
  if (length !== undefined && length !== end - start + 1)
    return retry('Content-Length disagrees with Content-Range')
  return { ok: true, plan: { bodyStart: start, announced: end - start + 1 } }
}

function parseLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined
  return Number(value)
}

function sizeMismatch(where: string, size: number, served: number | undefined, status: number): LinkkitError {
  const what = served === undefined ? 'a shorter file' : `${served} bytes`
  return new LinkkitError(
    'ERR_SIZE_MISMATCH',
    `firmware server ${where} holds ${what}; the offer says ${size}`,
    {
      httpStatus: status,
      details: { expected: size, served },
    },
  )
}
