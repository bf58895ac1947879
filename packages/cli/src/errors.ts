/** Bad arguments: the command prints the reason and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A failure at run time with a reason worth printing as is: exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError'
}

export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const

/** One line for stderr: the error's code (when it has one) and message, newlines folded. */
export function reasonOf(error: unknown): string {
  if (error instanceof UsageError || error instanceof CliError) return oneLine(error.message)
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return oneLine(typeof code === 'string' ? `${code}: ${error.message}` : error.message)
  }
  return oneLine(String(error))
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}
